package testca

import (
	"crypto/x509"
	"encoding/pem"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func verify(t *testing.T, ca *CA, certPEM []byte, host string) error {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	assert.Assert(t, b != nil)
	cert, err := x509.ParseCertificate(b.Bytes)
	assert.NilError(t, err)
	roots := x509.NewCertPool()
	assert.Assert(t, roots.AppendCertsFromPEM(ca.PEM))
	_, err = cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: host})
	return err
}

// A certificate the CA issues is valid for its names and addresses, and
// for nothing else; another CA's roots do not verify it.
func TestIssueIsValidForItsHostsOnly(t *testing.T) {
	ca, err := New("test CA")
	assert.NilError(t, err)
	certPEM, keyPEM, err := ca.Issue("model.test", "172.17.0.5")
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(keyPEM), "PRIVATE KEY"))
	assert.Check(t, verify(t, ca, certPEM, "model.test"))
	assert.Check(t, verify(t, ca, certPEM, "172.17.0.5"))
	assert.Check(t, is.ErrorContains(verify(t, ca, certPEM, "other.test"), "certificate is valid for"))
	other, err := New("test CA")
	assert.NilError(t, err)
	assert.Check(t, is.ErrorContains(verify(t, other, certPEM, "model.test"), "unknown authority"))

	_, _, err = ca.Issue()
	assert.Check(t, is.ErrorContains(err, "no host"))
}

// Fixed gives every process the same CA for a name; New never repeats.
func TestFixedIsTheSameEverywhere(t *testing.T) {
	a, err := Fixed("fixed CA")
	assert.NilError(t, err)
	b, err := Fixed("fixed CA")
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(a.PEM, b.PEM))
	c, err := Fixed("another CA")
	assert.NilError(t, err)
	assert.Check(t, string(a.PEM) != string(c.PEM))
	d, err := New("fixed CA")
	assert.NilError(t, err)
	assert.Check(t, string(a.PEM) != string(d.PEM))
}

// A server given the CA's files issues certificates clients of the
// original CA accept; broken files are refused with a reason.
func TestParseRoundTrip(t *testing.T) {
	for _, mk := range []func(string) (*CA, error){New, Fixed} {
		ca, err := mk("round trip CA")
		assert.NilError(t, err)
		keyPEM, err := ca.KeyPEM()
		assert.NilError(t, err)
		back, err := Parse(ca.PEM, keyPEM)
		assert.NilError(t, err)
		certPEM, _, err := back.Issue("server.test")
		assert.NilError(t, err)
		assert.Check(t, verify(t, ca, certPEM, "server.test"))
	}
	_, err := Parse([]byte("not PEM"), nil)
	assert.Check(t, is.ErrorContains(err, "no PEM block"))
	ca, err := New("x")
	assert.NilError(t, err)
	_, err = Parse(ca.PEM, ca.PEM)
	assert.Check(t, is.ErrorContains(err, "CA key"))
}

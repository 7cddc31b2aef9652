package fakemodel

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testca"
)

// A client that trusts the test CA reaches the server by the address its
// certificate names, and the server records the credentials it received.
func TestServerRecordsOverTLS(t *testing.T) {
	ca, err := testca.New("test CA")
	assert.NilError(t, err)
	caPEM := ca.PEM
	certPEM, keyPEM, err := ca.Issue("127.0.0.1")
	assert.NilError(t, err)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	assert.NilError(t, err)
	srv := httptest.NewUnstartedServer(&Server{})
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()

	roots := x509.NewCertPool()
	assert.Assert(t, roots.AppendCertsFromPEM(caPEM))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/anthropic/v1/messages?beta=true", strings.NewReader(`{"model":"m"}`))
	assert.NilError(t, err)
	req.Header.Set("X-Api-Key", "sk-real")
	resp, err := c.Do(req)
	assert.NilError(t, err)
	var msg struct{ Type string }
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&msg))
	resp.Body.Close()
	assert.Check(t, is.Equal(msg.Type, "message"))

	resp, err = c.Get(srv.URL + RequestsPath)
	assert.NilError(t, err)
	defer resp.Body.Close()
	var got []Request
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Assert(t, is.Len(got, 1))
	assert.Check(t, is.Equal(got[0].Path, "/anthropic/v1/messages"))
	assert.Check(t, is.Equal(got[0].Query, "beta=true"))
	assert.Check(t, is.DeepEqual(got[0].Credentials, map[string]string{"X-Api-Key": "sk-real"}))

	// A client without the CA is refused: the certificate is the test's own.
	_, err = http.Get(srv.URL + RequestsPath)
	assert.Check(t, is.ErrorContains(err, "certificate"))
}

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/egress"
)

// writeTestCA writes a self-signed CA certificate to a PEM file.
func writeTestCA(t *testing.T) (path string, pemText []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	assert.NilError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "corp CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	assert.NilError(t, err)
	pemText = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	path = filepath.Join(t.TempDir(), "ca.pem")
	assert.NilError(t, os.WriteFile(path, pemText, 0o644))
	return path, pemText
}

// --model-base-url and --model-ca-file reach the gateway in the printed
// script, in both transports: the URL as --upstream, the roots in the
// proxy's environment; the sandbox's own command line has neither.
func TestCmdModelBaseURL(t *testing.T) {
	caFile, caPEM := writeTestCA(t)
	image := testimage.Toolbox(t)
	for _, transport := range []string{"host", "container"} {
		t.Run(transport, func(t *testing.T) {
			code, out, errOut := cli(context.Background(), map[string]string{"ANTHROPIC_API_KEY": "sk-real"},
				"cmd", "--image", image, "--workspace", t.TempDir(), "--user", "1000:1000", "--proxy-transport", transport,
				"--agent", "claude", "--prompt", "review",
				"--model-base-url", "https://litellm.corp.example/anthropic", "--model-ca-file", caFile)
			assert.Equal(t, code, 0, errOut)
			assert.Check(t, is.Contains(out, "--upstream anthropic=https://litellm.corp.example/anthropic"))
			assert.Check(t, is.Contains(out, egress.CAEnv+"="+egress.EncodeCAEnv(caPEM)))
		})
	}
}

func TestModelFlagsRefuseBadValues(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	assert.NilError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o644))
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--model-base-url", "http://litellm.corp.example"}, "--model-base-url: \"http://litellm.corp.example\": scheme must be https (http only for a loopback address"},
		{[]string{"--model-ca-file", notPEM}, "--model-ca-file " + notPEM + ": text outside PEM blocks"},
		{[]string{"--model-ca-file", notPEM + ".missing"}, "--model-ca-file: open "},
	} {
		args := append([]string{"cmd", "--image", "agents:1", "--workspace", t.TempDir(), "--agent", "claude", "--prompt", "p"}, tc.args...)
		code, _, errOut := cli(context.Background(), map[string]string{"ANTHROPIC_API_KEY": "sk-real"}, args...)
		assert.Check(t, is.Equal(code, 125))
		assert.Check(t, is.Contains(errOut, tc.err))
	}
}

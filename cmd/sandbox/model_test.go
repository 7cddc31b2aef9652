package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testca"
	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/egress"
)

// writeTestCA writes a fresh CA certificate to a PEM file.
func writeTestCA(t *testing.T) (path string, pemText []byte) {
	t.Helper()
	ca, err := testca.New("corp CA")
	assert.NilError(t, err)
	path = filepath.Join(t.TempDir(), "ca.pem")
	assert.NilError(t, os.WriteFile(path, ca.PEM, 0o644))
	return path, ca.PEM
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

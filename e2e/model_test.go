package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testimage"
)

// `sandbox run --model-base-url` sends the agent's model calls to that API
// through the gateway, on both proxy transports: the API receives the real
// key, trusted through --model-ca-file. Without the CA the gateway will not
// hand the key to a server it cannot verify, and the API receives nothing.
func TestRunAgainstAModelBaseURL(t *testing.T) {
	const key = "sk-ant-e2e-model-url-key-7c1d"
	model := startFakeModel(t, "bridge")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	assert.NilError(t, os.WriteFile(caFile, model.caPEM, 0o644))
	for _, tc := range []struct {
		name, transport string
		ca              bool
		status          string
	}{
		{"host transport", "host", true, "200 OK"},
		{"container transport", "container", true, "200 OK"},
		{"no CA", "host", false, "502 Bad Gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			assert.NilError(t, os.Chmod(ws, 0o777))
			args := []string{"run", "--workspace", ws, "--user", "1000:1000", "--memory", "256m",
				"--image", testimage.Replay(t), "--network", "private", "--proxy-transport", tc.transport, "--proxy-image", proxyImage(t),
				"-e", "REPLAY_DELAY=1ms-2ms", "-e", "REPLAY_MODEL_CALL=1", "--agent", "claude", "--prompt", "hi",
				"--model-base-url", model.url + "/anthropic"}
			if tc.ca {
				args = append(args, "--model-ca-file", caFile)
			}
			before := len(model.requests())
			cmd := exec.Command(sandboxBin, args...)
			cmd.Env = append(os.Environ(), "ANTHROPIC_API_KEY="+key, "XDG_CONFIG_HOME="+t.TempDir())
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			assert.NilError(t, cmd.Run(), "stderr:\n%s", stderr.String())
			assert.Check(t, is.Contains(stderr.String(), "model-base-url="+model.url+"/anthropic (from flag)"))
			assert.Check(t, is.Contains(stderr.String(), "replayagent: model POST http://127.0.0.1:8080/anthropic/v1/messages: "+tc.status))
			assert.Check(t, !strings.Contains(stdout.String()+stderr.String(), key), "the run printed the key")

			got := model.requests()[before:]
			if !tc.ca {
				assert.Check(t, is.Len(got, 0), "received without a verified certificate: %+v", got)
				return
			}
			assert.Assert(t, is.Len(got, 1), "%+v", got)
			assert.Check(t, is.Equal(got[0].Path, "/anthropic/v1/messages"))
			assert.Check(t, is.DeepEqual(got[0].Credentials, map[string]string{"X-Api-Key": key}))
		})
	}
}

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testimage"
)

// The real model key never enters a private sandbox, whichever way it was
// asked for: the created container's environment (what `docker inspect`
// shows) holds only the session token, and nothing the run prints shows
// the key.
func TestPrivateSandboxNeverHoldsTheRealKey(t *testing.T) {
	const key = "sk-ant-e2e-real-key-5f3a9c"
	for _, tc := range []struct {
		name   string
		args   []string
		config string
		file   string
	}{
		{name: "--secret", args: []string{"--secret", "ANTHROPIC_API_KEY"}},
		{name: "-e NAME=VALUE", args: []string{"-e", "ANTHROPIC_API_KEY=" + key}},
		{name: "-e NAME", args: []string{"-e", "ANTHROPIC_API_KEY"}},
		{name: "--env-file", file: "ANTHROPIC_API_KEY=" + key + "\n"},
		{name: "config secrets", config: "secrets: [ANTHROPIC_API_KEY]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			assert.NilError(t, os.Chmod(ws, 0o777))
			args := []string{"run", "--workspace", ws, "--user", "1000:1000", "--memory", "256m",
				"--image", testimage.Replay(t), "--network", "private", "--proxy-image", proxyImage(t),
				"--rm=false", "-e", "REPLAY_DELAY=1ms-2ms", "--agent", "claude", "--prompt", "hi"}
			if tc.file != "" {
				f := filepath.Join(t.TempDir(), "env")
				assert.NilError(t, os.WriteFile(f, []byte(tc.file), 0o600))
				args = append(args, "--env-file", f)
			}
			if tc.config != "" {
				assert.NilError(t, os.MkdirAll(filepath.Join(ws, ".github"), 0o755))
				assert.NilError(t, os.WriteFile(filepath.Join(ws, ".github", "sandbox.yml"), []byte(tc.config), 0o644))
			}
			// A config's secrets copy host values in: they apply only once
			// the file is trusted, in a trust store of this test's own.
			env := append(os.Environ(), "ANTHROPIC_API_KEY="+key, "XDG_CONFIG_HOME="+t.TempDir())
			if tc.config != "" {
				trust := exec.Command(sandboxBin, "trust", "--workspace", ws)
				trust.Env = env
				out, err := trust.CombinedOutput()
				assert.NilError(t, err, "sandbox trust: %s", out)
			}
			cmd := exec.Command(sandboxBin, append(args, tc.args...)...)
			cmd.Env = env
			id, stdout, stderr, err := keptRun(t, cmd)
			assert.NilError(t, err, "stderr:\n%s", stderr)

			c := testimage.NewClient(t)
			ins, err := c.ContainerInspect(context.Background(), "sandbox-"+id, client.ContainerInspectOptions{})
			assert.NilError(t, err)
			var cred string
			for _, kv := range ins.Container.Config.Env {
				assert.Check(t, !strings.Contains(kv, key), "sandbox env holds the real key: %s", kv)
				if v, ok := strings.CutPrefix(kv, "ANTHROPIC_API_KEY="); ok {
					cred = v
				}
			}
			assert.Check(t, cred != "", "the sandbox has no session token")
			assert.Check(t, !strings.Contains(stdout+stderr, key), "the run printed the key")
			assert.Check(t, is.Equal(strings.Count(stderr, "credential gateway"), 1), "stderr:\n%s", stderr)
		})
	}
}

// The real model key never enters the sandbox of a plain command either, in
// either network mode and on either proxy transport: given explicitly, it
// goes to the gateway, and the sandbox gets the session token under the
// same name and ANTHROPIC_BASE_URL pointing at the gateway. A command that
// uses the two, as the vendor's SDK would, reaches the model API, which
// receives the real key.
func TestPlainCommandNeverHoldsTheRealKey(t *testing.T) {
	const key = "sk-ant-e2e-plain-command-key-8e2b"
	model := startFakeModel(t, "bridge")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	assert.NilError(t, os.WriteFile(caFile, model.caPEM, 0o644))
	for _, mode := range []string{"public", "private"} {
		for _, transport := range []string{"host", "container"} {
			t.Run(mode+"/"+transport, func(t *testing.T) {
				ws := t.TempDir()
				assert.NilError(t, os.Chmod(ws, 0o777))
				before := len(model.requests())
				cmd := exec.Command(sandboxBin, "run", "--workspace", ws, "--user", "1000:1000", "--memory", "256m",
					"--image", testimage.Toolbox(t), "--network", mode, "--proxy-transport", transport, "--proxy-image", proxyImage(t),
					"--rm=false", "--model-base-url", model.url+"/anthropic", "--model-ca-file", caFile, "-e", "ANTHROPIC_API_KEY",
					"--", "/toolbox", "fetch-env", "POST $ANTHROPIC_BASE_URL/v1/messages", "x-api-key: $ANTHROPIC_API_KEY")
				cmd.Env = append(os.Environ(), "ANTHROPIC_API_KEY="+key, "XDG_CONFIG_HOME="+t.TempDir())
				id, stdout, stderr, runErr := keptRun(t, cmd)

				c := testimage.NewClient(t)
				ins, err := c.ContainerInspect(context.Background(), "sandbox-"+id, client.ContainerInspectOptions{})
				assert.NilError(t, err)
				var cred, base string
				for _, kv := range ins.Container.Config.Env {
					assert.Check(t, !strings.Contains(kv, key), "sandbox env holds the real key: %s", kv)
					if v, ok := strings.CutPrefix(kv, "ANTHROPIC_API_KEY="); ok {
						cred = v
					}
					if v, ok := strings.CutPrefix(kv, "ANTHROPIC_BASE_URL="); ok {
						base = v
					}
				}
				assert.Check(t, cred != "", "the sandbox has no session token")
				assert.Check(t, is.Equal(base, "http://127.0.0.1:8080/anthropic"))
				assert.Check(t, !strings.Contains(stdout+stderr, key), "the run printed the key")
				assert.Check(t, is.Equal(strings.Count(stderr, "credential gateway"), 1), "stderr:\n%s", stderr)

				assert.NilError(t, runErr, "stderr:\n%s", stderr)
				assert.Check(t, is.Contains(stdout, "200 OK"))
				got := model.requests()[before:]
				assert.Assert(t, is.Len(got, 1), "%+v", got)
				assert.Check(t, is.DeepEqual(got[0].Credentials, map[string]string{"X-Api-Key": key}))
			})
		}
	}
}

// keptRun runs a `sandbox run --rm=false` command to its end and returns
// the run's id (from its summary line), its output and how it ended; the
// kept sandbox is removed when the test ends.
func keptRun(t *testing.T, cmd *exec.Cmd) (id, stdout, stderr string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	m := runIDLine.FindStringSubmatch(errOut.String())
	assert.Assert(t, m != nil, "stderr:\n%s", errOut.String())
	id = m[1]
	t.Cleanup(func() {
		out, err := exec.Command(sandboxBin, "gc", "--all", "--run", id).CombinedOutput()
		assert.Check(t, is.Nil(err), "gc: %s", out)
	})
	return id, out.String(), errOut.String(), err
}

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/internal/testimage"
)

// What `sandbox cmd` prints and what `sandbox run` does create the same
// sandbox: for every agent, network mode and proxy transport, the pasted
// script's container and the run's are compared by docker inspect. Only
// what differs by design is normalised: the run id (and the names and
// paths made from it), the session token's value, the hostname.
func TestCmdAndRunCreateTheSameSandbox(t *testing.T) {
	image := testimage.Replay(t)
	proxy := proxyImage(t)
	keys := map[string]string{
		"ANTHROPIC_API_KEY": "sk-ant-parity", "CODEX_API_KEY": "sk-codex-parity", "GEMINI_API_KEY": "gm-parity",
	}
	// A plain command given the keys explicitly has them fronted too.
	plain := []string{"-e", "ANTHROPIC_API_KEY", "-e", "CODEX_API_KEY", "-e", "GEMINI_API_KEY", "--", "claude", "-p", "review"}
	for _, agentName := range []string{"claude", "codex", "gemini", "plain"} {
		for _, mode := range []string{"public", "private"} {
			for _, transport := range []string{"host", "container"} {
				t.Run(agentName+"/"+mode+"/"+transport, func(t *testing.T) {
					ws := t.TempDir()
					assert.NilError(t, os.Chmod(ws, 0o777))
					// A git directory from the start: the first run would
					// otherwise leave the mount point of its empty .git for
					// the second to find.
					assert.NilError(t, os.Mkdir(filepath.Join(ws, ".git"), 0o755))
					args := func(name string) []string {
						a := []string{"--image", image, "--workspace", ws, "--user", "1000:1000", "--rm=false",
							"--name", name, "--network", mode, "--proxy-transport", transport, "--proxy-image", proxy}
						if agentName == "plain" {
							return append(a, plain...)
						}
						return append(a, "--agent", agentName, "--prompt", "review")
					}
					env := os.Environ()
					for k, v := range keys {
						env = append(env, k+"="+v)
					}
					id := shortID(t)

					// The script, pasted into bash.
					cmd := exec.Command(sandboxBin, append([]string{"cmd"}, args("sbxtest-parity-script-"+id)...)...)
					cmd.Env = env
					script, err := cmd.Output()
					assert.NilError(t, err, "sandbox cmd: %s", stderrOf(err))
					t.Cleanup(func() { gcRun(t, runIDOf(string(script))) })
					bash := exec.Command("bash", "-c", string(script))
					bash.Env = env
					// The replayed agent's own exit status is not compared;
					// the containers are.
					scriptOut, _ := bash.CombinedOutput()

					// The run.
					run := exec.Command(sandboxBin, append([]string{"run"}, args("sbxtest-parity-run-"+id)...)...)
					run.Env = env
					runOut, _ := run.CombinedOutput()
					runID := regexp.MustCompile(`sandbox: run ([0-9a-f]{12}):`).FindStringSubmatch(string(runOut))
					assert.Assert(t, runID != nil, "no run id in: %s", runOut)
					t.Cleanup(func() { gcRun(t, runID[1]) })

					fromScript := inspectNormalised(t, "sbxtest-parity-script-"+id, "script:\n"+string(script)+"\noutput:\n"+string(scriptOut))
					fromRun := inspectNormalised(t, "sbxtest-parity-run-"+id, "sandbox run:\n"+string(runOut))
					assert.DeepEqual(t, strings.Split(fromScript, ","), strings.Split(fromRun, ","))
					for _, v := range keys {
						assert.Check(t, !strings.Contains(fromRun, v), "a real key is in the sandbox")
					}
				})
			}
		}
	}
}

// inspectNormalised is the container's Config and HostConfig as JSON, with
// what differs by design between two runs replaced by placeholders.
func inspectNormalised(t *testing.T, name, how string) string {
	t.Helper()
	c := testimage.NewClient(t)
	res, err := c.ContainerInspect(context.Background(), name, client.ContainerInspectOptions{})
	assert.NilError(t, err, how)
	ct := res.Container
	ct.Config.Hostname = ""
	slices.Sort(ct.Config.Env)
	b, err := json.Marshal(struct{ Config, HostConfig any }{ct.Config, ct.HostConfig})
	assert.NilError(t, err)
	s := string(b)
	runID := ct.Config.Labels["org.sandbox-action.run-id"]
	s = strings.ReplaceAll(s, runID, "RUNID")
	s = strings.ReplaceAll(s, name, "NAME")
	// The session token is random per run.
	s = regexp.MustCompile(`([A-Z_]+_API_KEY=)[0-9a-f]{64}`).ReplaceAllString(s, "${1}TOKEN")
	return s
}

var runIDInScript = regexp.MustCompile(`run-id=([0-9a-f]{12})`)

func runIDOf(script string) string {
	if m := runIDInScript.FindStringSubmatch(script); m != nil {
		return m[1]
	}
	return ""
}

// gcRun removes whatever a kept run left: its sandbox, volume and
// socket directory.
func gcRun(t *testing.T, runID string) {
	if runID == "" {
		return
	}
	out, err := exec.Command(sandboxBin, "gc", "--all", "--run", runID).CombinedOutput()
	if err != nil {
		t.Logf("gc %s: %v\n%s", runID, err, out)
	}
	assertNothingLeft(t, runID)
}

func shortID(t *testing.T) string {
	b := make([]byte, 4)
	f, err := os.Open("/dev/urandom")
	assert.NilError(t, err)
	defer f.Close()
	_, err = f.Read(b)
	assert.NilError(t, err)
	const hex = "0123456789abcdef"
	var s []byte
	for _, x := range b {
		s = append(s, hex[x>>4], hex[x&15])
	}
	return string(s)
}

package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"

	"github.com/org/sandbox-action/internal/fakegithub"
	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/spec"
)

// testLabel marks every container and network this suite creates itself,
// so that a crashed run's leftovers are recognisable.
var testLabel = spec.LabelTest + "=e2e"

// fakeGitHub is the fake GitHub API running as a container of ours on the
// job's network, as GitHub's API is reachable from a runner's job.
type fakeGitHub struct {
	t    *testing.T
	name string
	// url is the API's address as the action container sees it.
	url string
	// control is the address the test uses for /_fake/.
	control string
}

// startFakeGitHub starts the fake on network (a user-defined network, or
// "bridge") seeded with state.
func startFakeGitHub(t *testing.T, network string, state fakegithub.State) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, name: "sbxtest-e2e-github-" + randomHex(4)}
	docker(t, "run", "-d", "--name", f.name, "--label", testLabel, "--network", network, testimage.FakeGitHub(t))
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", f.name).Run() })
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		logs, _ := exec.Command("docker", "logs", f.name).CombinedOutput()
		if strings.Contains(string(logs), "fakegithub: listening on") {
			return poll.Success()
		}
		return poll.Continue("waiting for the fake GitHub's ready line: %s", logs)
	}, poll.WithTimeout(30*time.Second))

	ip := containerIP(t, f.name, network)
	f.control = "http://" + ip + ":8080"
	// The default bridge has no name resolution: a runner's job container
	// reaches a service there by address. On a user-defined network it is
	// reached by name, as a job reaches its services.
	if network == "bridge" {
		f.url = f.control
	} else {
		f.url = "http://" + f.name + ":8080"
	}
	f.post("/_fake/state", state)
	return f
}

func (f *fakeGitHub) post(path string, v any) {
	f.t.Helper()
	b, err := json.Marshal(v)
	assert.NilError(f.t, err)
	resp, err := http.Post(f.control+path, "application/json", bytes.NewReader(b))
	assert.NilError(f.t, err)
	resp.Body.Close()
	assert.Equal(f.t, resp.StatusCode, http.StatusNoContent, "POST %s", path)
}

func (f *fakeGitHub) get(path string, v any) {
	f.t.Helper()
	resp, err := http.Get(f.control + path)
	assert.NilError(f.t, err)
	defer resp.Body.Close()
	assert.Equal(f.t, resp.StatusCode, http.StatusOK, "GET %s", path)
	assert.NilError(f.t, json.NewDecoder(resp.Body).Decode(v))
}

// state is what the fake holds now: comments, reviews, reactions.
func (f *fakeGitHub) state() fakegithub.State {
	var s fakegithub.State
	f.get("/_fake/state", &s)
	return s
}

// requests are the API requests it received, in order.
func (f *fakeGitHub) requests() []fakegithub.Request {
	var r []fakegithub.Request
	f.get("/_fake/requests", &r)
	return r
}

// writes are the requests that changed something, as "METHOD path".
func (f *fakeGitHub) writes() []string {
	var out []string
	for _, r := range f.requests() {
		if r.Method != http.MethodGet {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// docker runs the docker CLI and returns its trimmed standard output.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command("docker", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	assert.NilError(t, err, "docker %s: %s", strings.Join(args, " "), stderr.String())
	return strings.TrimSpace(string(out))
}

func containerIP(t *testing.T, name, network string) string {
	t.Helper()
	ip := docker(t, "inspect", "-f", fmt.Sprintf(`{{(index .NetworkSettings.Networks %q).IPAddress}}`, network), name)
	assert.Assert(t, ip != "", "%s has no address on %s", name, network)
	return ip
}

// jobNetwork creates a user-defined bridge network, as the runner creates
// one for a job with services, removed when the test ends.
func jobNetwork(t *testing.T) string {
	t.Helper()
	name := "sbxtest-e2e-job-" + randomHex(4)
	docker(t, "network", "create", "--label", testLabel, name)
	t.Cleanup(func() { _ = exec.Command("docker", "network", "rm", name).Run() })
	return name
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

package fakegithub_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"

	"github.com/org/sandbox-action/internal/fakegithub"
	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/github"
)

// TestStandaloneInContainer runs the fake as the end-to-end suite does: its
// static binary in a scratch image, seeded and inspected over HTTP, with the
// action's client talking to it.
func TestStandaloneInContainer(t *testing.T) {
	tag := testimage.FakeGitHub(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "sbxtest-fakegithub-" + hex.EncodeToString(b)
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })
	out, err := exec.Command("docker", "run", "-d", "--name", name, "--label", "org.sandbox-action.test=1",
		"-p", "127.0.0.1::8080", tag).CombinedOutput()
	assert.NilError(t, err, "%s", out)

	// The ready line, then the published loopback port.
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		logs, _ := exec.Command("docker", "logs", name).CombinedOutput()
		if strings.Contains(string(logs), "fakegithub: listening on") {
			return poll.Success()
		}
		return poll.Continue("waiting for the ready line: %s", logs)
	}, poll.WithTimeout(20*time.Second))
	port, err := exec.Command("docker", "port", name, "8080/tcp").Output()
	assert.NilError(t, err)
	var addr string
	sc := bufio.NewScanner(strings.NewReader(string(port)))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "127.0.0.1:") {
			addr = sc.Text()
		}
	}
	assert.Assert(t, addr != "", "no loopback port in %q", port)
	base := "http://" + addr

	state := fakegithub.State{
		Users: []fakegithub.User{{Login: "alice", Type: "User"}},
		Pulls: []*fakegithub.Pull{{Repo: "o/r", Number: 1, Head: fakegithub.Branch{SHA: "abc", Repo: "o/r"}, Base: fakegithub.Branch{Repo: "o/r"}}},
	}
	sb, _ := json.Marshal(state)
	resp, err := http.Post(base+"/_fake/state", "application/json", strings.NewReader(string(sb)))
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusNoContent)

	c, err := github.New(github.Options{APIURL: base, Token: fakegithub.DefaultToken})
	assert.NilError(t, err)
	ctx := context.Background()
	repo := github.Repo{Owner: "o", Name: "r"}
	sc2, err := c.FindStatus(ctx, repo, 1, "")
	assert.NilError(t, err)
	assert.NilError(t, sc2.Update(ctx, github.Status{Phase: github.PhaseRunning, RunID: 7}))

	resp, err = http.Get(base + "/_fake/requests")
	assert.NilError(t, err)
	defer resp.Body.Close()
	var reqs []fakegithub.Request
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&reqs))
	assert.Equal(t, len(reqs), 2)
	assert.Equal(t, reqs[0].Method+" "+reqs[0].Path, "GET /repos/o/r/issues/1/comments")
	assert.Equal(t, reqs[1].Method+" "+reqs[1].Path, "POST /repos/o/r/issues/1/comments")
	assert.Equal(t, reqs[1].Status, http.StatusCreated)

	// SIGTERM stops it promptly (docker stop would otherwise wait 10 s).
	start := time.Now()
	out, err = exec.Command("docker", "stop", "-t", "10", name).CombinedOutput()
	assert.NilError(t, err, "%s", out)
	assert.Assert(t, time.Since(start) < 5*time.Second, "stopped in %s", time.Since(start))
}

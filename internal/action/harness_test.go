package action

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/org/sandbox-action/internal/syncbuf"

	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/internal/fakegithub"
	"github.com/org/sandbox-action/internal/testimage"
)

// The payloads' repository and pull requests (see testdata/SOURCES.md).
const (
	repo     = "Codertocat/Hello-World"
	headSHA  = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	baseSHA  = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
	modelKey = "sk-ant-test-0123456789abcdef"
	// runnerUID owns the workspace, as on GitHub's hosted runners.
	runnerUID = 1001
)

// harness is one action run against the fake GitHub API and the real
// Docker daemon, with the replay agent as the agent.
type harness struct {
	t    testing.TB
	gh   *fakegithub.Server
	env  map[string]string
	ws   string
	dir  string
	out  lockedBuffer
	code int
}

// lockedBuffer is written by goroutines while the test reads it.
type lockedBuffer = syncbuf.Buffer

// newHarness prepares a run of event with the payload in testdata, edited
// by edit when not nil (to derive variants: a draft, a fork, a bot).
func newHarness(t testing.TB, event, payload string, edit func(map[string]any)) *harness {
	t.Helper()
	h := &harness{t: t, gh: fakegithub.New(t), dir: t.TempDir()}
	h.ws = filepath.Join(h.dir, "workspace")
	assert.NilError(t, os.MkdirAll(h.ws, 0o755))
	assert.NilError(t, os.Chown(h.ws, runnerUID, runnerUID))

	data, err := os.ReadFile(filepath.Join("testdata", payload))
	assert.NilError(t, err)
	if edit != nil {
		var m map[string]any
		assert.NilError(t, json.Unmarshal(data, &m))
		edit(m)
		data, err = json.Marshal(m)
		assert.NilError(t, err)
	}
	eventPath := filepath.Join(h.dir, "event.json")
	assert.NilError(t, os.WriteFile(eventPath, data, 0o644))

	diff, err := os.ReadFile("testdata/pr.diff")
	assert.NilError(t, err)
	for _, n := range []int{1, 2} {
		body := "Please review."
		h.gh.AddPull(&fakegithub.Pull{
			Repo: repo, Number: n, Title: "Update the README", Body: &body, State: "open", Author: "Codertocat",
			Head: fakegithub.Branch{Ref: "changes", SHA: headSHA, Repo: repo},
			Base: fakegithub.Branch{Ref: "master", SHA: baseSHA, Repo: repo},
			Diff: string(diff),
		})
	}
	h.gh.AddUser(fakegithub.User{Login: "Codertocat", Type: "User"})
	h.gh.SetPermission(repo, "Codertocat", "write")

	h.env = map[string]string{
		"GITHUB_EVENT_NAME":       event,
		"GITHUB_EVENT_PATH":       eventPath,
		"GITHUB_API_URL":          h.gh.URL,
		"GITHUB_SERVER_URL":       "https://github.com",
		"GITHUB_REPOSITORY":       repo,
		"GITHUB_RUN_ID":           "4242",
		"GITHUB_WORKSPACE":        h.ws,
		"GITHUB_OUTPUT":           filepath.Join(h.dir, "output"),
		"GITHUB_STEP_SUMMARY":     filepath.Join(h.dir, "summary"),
		"INPUT_GITHUB-TOKEN":      fakegithub.DefaultToken,
		"INPUT_NETWORK":           "public",
		"INPUT_ANTHROPIC-API-KEY": modelKey,
		"REPLAY_DELAY":            "1ms-2ms",
	}
	for _, f := range []string{"output", "summary"} {
		assert.NilError(t, os.WriteFile(filepath.Join(h.dir, f), nil, 0o644))
	}
	return h
}

// agent makes the run use the replay agent image, printing transcript
// (a file in testdata), with the base branch's config passing the replay
// settings in.
func (h *harness) agent(transcript string, config string) {
	h.t.Helper()
	h.env["INPUT_IMAGE"] = testimage.Replay(h.t)
	// Not in a container of its own image, the action runs the egress
	// proxy in this tree's sandbox binary.
	h.env[proxyImageEnv] = testimage.Ensure(h.t, testimage.Spec{
		Tag:        actionProxyTag,
		Binaries:   map[string]string{"/usr/local/bin/sandbox": "./cmd/sandbox"},
		Entrypoint: []string{"/usr/local/bin/sandbox"},
	})
	data, err := os.ReadFile(filepath.Join("testdata", transcript))
	assert.NilError(h.t, err)
	dir := filepath.Join(h.ws, ".replay")
	assert.NilError(h.t, os.MkdirAll(dir, 0o755))
	assert.NilError(h.t, os.WriteFile(filepath.Join(dir, "transcript.jsonl"), data, 0o644))
	h.env["REPLAY_TRANSCRIPT"] = "/workspace/.replay/transcript.jsonl"
	h.gh.AddFile(repo, baseSHA, ".github/sandbox.yml", "env: [REPLAY_TRANSCRIPT, REPLAY_DELAY, REPLAY_EXIT, REPLAY_EDITS, REPLAY_STDERR]\n"+config)
}

func (h *harness) getenv(k string) string { return h.env[k] }

// run runs the action in-process.
func (h *harness) run(ctx context.Context) int {
	h.code = realMain(ctx, h.env, &h.out)
	return h.code
}

// outputs reads GITHUB_OUTPUT (name<<DELIMITER lines).
func (h *harness) outputs() map[string]string {
	h.t.Helper()
	f, err := os.Open(h.env["GITHUB_OUTPUT"])
	assert.NilError(h.t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, delim, ok := strings.Cut(sc.Text(), "<<")
		if !ok {
			continue
		}
		var lines []string
		for sc.Scan() && sc.Text() != delim {
			lines = append(lines, sc.Text())
		}
		out[name] = strings.Join(lines, "\n")
	}
	return out
}

func (h *harness) summary() string {
	b, err := os.ReadFile(h.env["GITHUB_STEP_SUMMARY"])
	assert.NilError(h.t, err)
	return string(b)
}

// comments are the bodies of the pull request's conversation.
func (h *harness) comments(pr int) []string {
	var out []string
	for _, c := range h.gh.Comments(repo, pr) {
		out = append(out, c.Body)
	}
	return out
}

func writeFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	assert.NilError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	assert.NilError(t, os.WriteFile(p, []byte(content), 0o644))
}

func readFile(t *testing.T, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rel))
	assert.NilError(t, err)
	return string(b)
}

// actionProxyTag is the egress proxy image of the action's tests.
const actionProxyTag = "sandbox-action-test/action-proxy:dev"

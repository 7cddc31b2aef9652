package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/fs"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/agent"
)

// defaults are the transcripts the image replays when told nothing else.
var defaults = testimage.ReplayDefaults

func readRecording(t *testing.T, agentName, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(recordingsDir, agentName, file))
	assert.NilError(t, err)
	return b
}

// dockerRun runs the image with `docker run --rm` and returns the exit code
// and both streams.
func dockerRun(t *testing.T, dockerArgs []string, argv []string) (int, []byte, []byte) {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "sbxtest-replay-" + hex.EncodeToString(b)
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })
	args := append([]string{"run", "--rm", "--name", name, "--label", "org.sandbox-action.test=1"}, dockerArgs...)
	args = append(append(args, replayImage), argv...)
	cmd := exec.Command("docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.Bytes(), stderr.Bytes()
	case errors.As(err, &exitErr):
		return exitErr.ExitCode(), stdout.Bytes(), stderr.Bytes()
	}
	t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	return 0, nil, nil
}

// parseOutput reads the container's output the way a run does.
func parseOutput(t *testing.T, a agent.Adapter, stdout []byte, code int, stderr []byte) agent.Result {
	t.Helper()
	p := a.NewParser(nil)
	assert.NilError(t, p.Parse(bytes.NewReader(stdout)))
	return p.Finish(code, stderr)
}

// argvLine is what the replay agent says it was given.
func argvLine(t *testing.T, stderr []byte) []string {
	t.Helper()
	first, _, _ := strings.Cut(string(stderr), "\n")
	raw, ok := strings.CutPrefix(first, "replayagent: argv ")
	assert.Assert(t, ok, "stderr: %s", stderr)
	var argv []string
	assert.NilError(t, json.Unmarshal([]byte(raw), &argv))
	return argv
}

// replayImage is the replay agent image's tag, set by TestInContainer.
var replayImage string

func TestInContainer(t *testing.T) {
	replayImage = testimage.Replay(t)
	fast := []string{"-e", "REPLAY_DELAY=1ms-3ms"}

	for name, file := range defaults {
		t.Run(name, func(t *testing.T) {
			a, err := agent.Get(name)
			assert.NilError(t, err)
			argv, err := a.Command(agent.Request{Prompt: "Review this pull request", Model: "test-model"})
			assert.NilError(t, err)

			code, stdout, stderr := dockerRun(t, fast, argv)
			assert.Equal(t, code, 0, "stderr: %s", stderr)
			assert.DeepEqual(t, argvLine(t, stderr), argv)
			assert.Equal(t, string(stdout), string(readRecording(t, name, file)))

			got := parseOutput(t, a, stdout, code, stderr)
			want := parseOutput(t, a, readRecording(t, name, file), 0, stderr)
			assert.DeepEqual(t, got, want)
			assert.Assert(t, got.Success, "%s: %s", got.ErrorKind, got.ErrorMessage)
			assert.Assert(t, got.ToolCalls > 0)
		})
	}

	t.Run("failure transcript and exit code", func(t *testing.T) {
		a, _ := agent.Get("claude")
		argv, err := a.Command(agent.Request{Prompt: "hi"})
		assert.NilError(t, err)
		code, stdout, stderr := dockerRun(t,
			append(fast, "-e", "REPLAY_TRANSCRIPT=/recordings/claude/auth-failure-not-logged-in-2.1.141.jsonl", "-e", "REPLAY_EXIT=1"), argv)
		assert.Equal(t, code, 1)
		res := parseOutput(t, a, stdout, code, stderr)
		assert.Assert(t, !res.Success)
		assert.Equal(t, res.ErrorKind, "authentication_failed")
		assert.Equal(t, res.ExitCode, 1)
	})

	t.Run("edits the workspace", func(t *testing.T) {
		work := fs.NewDir(t, "workspace", fs.WithFile("notes.txt", "hello\n"))
		a, _ := agent.Get("codex")
		argv, err := a.Command(agent.Request{Prompt: "Append second to notes.txt"})
		assert.NilError(t, err)
		code, stdout, stderr := dockerRun(t, append(fast,
			"--user", fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
			"-v", work.Path()+":/workspace", "-w", "/workspace",
			"-e", `REPLAY_EDITS=[{"path":"notes.txt","append":"second\n"},{"path":"docs/plan.md","content":"# Plan\n"}]`,
		), argv)
		assert.Equal(t, code, 0, "stderr: %s", stderr)
		assert.Assert(t, parseOutput(t, a, stdout, code, stderr).Success)
		assert.Assert(t, fs.Equal(work.Path(), fs.Expected(t,
			fs.WithFile("notes.txt", "hello\nsecond\n"),
			fs.WithDir("docs", fs.WithFile("plan.md", "# Plan\n")),
			fs.MatchAnyFileMode)))
	})
}

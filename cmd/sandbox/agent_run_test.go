package main

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testimage"
)

// replayArgs run the replay agent in the default network mode, private, as
// `make demo` does.
func replayArgs(t *testing.T, ws string, extra ...string) []string {
	t.Helper()
	args := append([]string{"run", "--image", testimage.Replay(t), "--workspace", ws, "--user", "1000:1000",
		"-e", "REPLAY_DELAY=1ms-2ms"}, privateArgs(t)...)
	return append(args, extra...)
}

func TestRunAgentShowsProgressAndResult(t *testing.T) {
	ws := workspace(t)
	code, out, errOut := cli(context.Background(), nil, replayArgs(t, ws, "--agent", "claude", "--prompt", "add multiply")...)
	assert.Equal(t, code, 0, "stderr: %s", errOut)
	// The headless argv the adapter built reached the agent.
	assert.Check(t, is.Contains(errOut, `replayagent: argv ["claude","-p","--output-format","stream-json","--verbose","--","add multiply"]`))
	// One line per tool call, then the outcome with cost, read from the
	// recording the replay agent printed.
	// The recording has four tool calls: Read, Edit and Bash twice.
	assert.Check(t, is.Equal(strings.Count("\n"+out, "\n→ "), 4), "tool call lines:\n%s", out)
	assert.Check(t, is.Contains(out, "← error This command requires approval"))
	assert.Check(t, is.Contains(out, "✓ success · cost $0.2071"))
	assert.Check(t, is.Equal(strings.Count(out, "I've added `multiply(a, b)`"), 1), "final text printed once:\n%s", out)
}

func TestRunAgentJSONStreamsEventsThenResult(t *testing.T) {
	ws := workspace(t)
	code, out, errOut := cli(context.Background(), nil, replayArgs(t, ws, "--agent", "codex", "--prompt", "plan", "--json")...)
	assert.Equal(t, code, 0, "stderr: %s", errOut)
	var types []string
	var last map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		assert.NilError(t, json.Unmarshal(sc.Bytes(), &m), "line: %s", sc.Text())
		types = append(types, m["type"].(string))
		last = m
	}
	assert.Assert(t, len(types) > 3, "events: %v", types)
	assert.Equal(t, last["type"], "result")
	assert.Equal(t, last["success"], true)
	assert.Equal(t, last["agent"], "codex")
}

func TestRunAgentFailureIsNotGreen(t *testing.T) {
	ws := workspace(t)
	// Claude's auth failure exits 0 with is_error set: the run must fail.
	code, out, errOut := cli(context.Background(), nil, replayArgs(t, ws,
		"-e", "REPLAY_TRANSCRIPT=/recordings/claude/auth-failure-not-logged-in-2.1.141.jsonl",
		"--agent", "claude", "--prompt", "hi")...)
	assert.Equal(t, code, exitAgentFailed, "stdout: %s\nstderr: %s", out, errOut)
	assert.Check(t, is.Contains(out, "✗ failed (authentication_failed)"))
	assert.Check(t, is.Contains(errOut, "its result says it failed"))
}

func TestRunAgentWithoutResult(t *testing.T) {
	ws := workspace(t)
	// A stream cut short (here: a transcript with no result line, exit 3).
	code, out, errOut := cli(context.Background(), nil, replayArgs(t, ws,
		"-e", "REPLAY_TRANSCRIPT=/recordings/codex/reasoning-command-exec-0.46.0.jsonl", "-e", "REPLAY_EXIT=3",
		"--agent", "codex", "--prompt", "hi")...)
	assert.Equal(t, code, 3, "stdout: %s\nstderr: %s", out, errOut)
	assert.Check(t, is.Contains(out, "✗ failed"))
}

func TestRunAgentJSONSaysItTimedOut(t *testing.T) {
	ws := workspace(t)
	code, out, errOut := cli(context.Background(), nil, append(replayArgs(t, ws, "--agent", "claude", "--prompt", "hi", "--json", "--timeout", "1s"),
		"-e", "REPLAY_DELAY=5s-6s")...)
	assert.Equal(t, code, exitTimeout, "stderr: %s", errOut)
	assert.Check(t, is.Contains(errOut, "timed out after 1s (stopping it took"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last map[string]any
	assert.NilError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &last))
	assert.Check(t, is.Equal(last["type"], "result"))
	assert.Check(t, is.Equal(last["outcome"], "timed_out"))
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/review"
)

// The review recordings and diffs live with the review package.
const reviewData = "../../pkg/review/testdata"

func runReviewCmd(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code = realMain(context.Background(), append([]string{"review"}, args...),
		&streams{in: strings.NewReader(""), out: &out, err: &errOut, lookupEnv: lookup})
	return code, out.String(), errOut.String()
}

func transcript(name string) string { return filepath.Join(reviewData, "transcripts", name) }
func diffFile(name string) string   { return filepath.Join(reviewData, "diff", name) }

func TestReviewPrints(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"anchorable", []string{"--from", transcript("claude-anchorable.jsonl"), "--diff", diffFile("pr.diff"), "--head", "7e473017ea61650cd0222f0a3140e85f9f556926"}, 0},
		{"outside-request-changes", []string{"--from", transcript("claude-outside.jsonl"), "--diff", diffFile("pr.diff"), "--request-changes"}, 0},
		{"codex-empty", []string{"--agent", "codex", "--from", transcript("codex-empty.jsonl"), "--diff", diffFile("pr.diff")}, 0},
		{"no-structured-output", []string{"--from", transcript("claude-real-text-only.jsonl"), "--diff", diffFile("pr.diff")}, 1},
		{"schema-failure", []string{"--from", transcript("gemini-schema-invalid.jsonl"), "--diff", diffFile("pr.diff")}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runReviewCmd(t, nil, tc.args...)
			assert.Equal(t, code, tc.code, errOut)
			assert.Equal(t, errOut, "")
			golden.Assert(t, out, "review-"+tc.name+".golden")
		})
	}
}

// `sandbox review` prints the same review the action posts for the same run:
// the action parses the agent's stream live with its adapter and builds the
// review from the plan it prepared; the CLI reads the recording.
func TestReviewMatchesActionPath(t *testing.T) {
	for _, name := range []string{"claude-anchorable.jsonl", "claude-outside.jsonl", "gemini-fenced.jsonl", "codex-empty.jsonl"} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runReviewCmd(t, nil, "--json", "--from", transcript(name), "--diff", diffFile("pr.diff"), "--head", "abc123")
			assert.Equal(t, code, 0, errOut)
			var cli review.Posted
			assert.NilError(t, json.Unmarshal([]byte(out), &cli))

			diff, err := os.ReadFile(diffFile("pr.diff"))
			assert.NilError(t, err)
			plan, err := review.Prepare(review.Prep{Diff: diff, Head: "abc123"})
			assert.NilError(t, err)
			agentName := strings.SplitN(name, "-", 2)[0]
			a, err := agent.Get(agentName)
			assert.NilError(t, err)
			f, err := os.Open(transcript(name))
			assert.NilError(t, err)
			defer f.Close()
			p := a.NewParser(nil)
			assert.NilError(t, p.Parse(f))
			action := plan.Build(p.Finish(0, nil), review.Options{})

			assert.Equal(t, cli.Body, action.Body)
			assert.DeepEqual(t, cli.Comments, action.Comments)
			assert.Equal(t, cli.Event, action.Event)
			assert.Equal(t, cli.Status, action.Status)
		})
	}
}

func TestReviewSecondPush(t *testing.T) {
	const head1 = "7e473017ea61650cd0222f0a3140e85f9f556926"
	code, first, _ := runReviewCmd(t, nil, "--json", "--from", transcript("claude-push1.jsonl"), "--diff", diffFile("pr.diff"), "--head", head1)
	assert.Equal(t, code, 0)
	var p1 review.Posted
	assert.NilError(t, json.Unmarshal([]byte(first), &p1))
	earlier := filepath.Join(t.TempDir(), "review1.md")
	assert.NilError(t, os.WriteFile(earlier, []byte(p1.Body), 0o644))

	code, out, errOut := runReviewCmd(t, nil, "--from", transcript("claude-push2.jsonl"), "--diff", diffFile("pr2.diff"),
		"--head", "d21564e7f0a76ed0ce43b7d09d66b836bbaba793", "--earlier", earlier, "--since", diffFile("since.diff"))
	assert.Equal(t, code, 0, errOut)
	assert.Check(t, is.Contains(out, "== Inline comments (1) =="))
	assert.Check(t, is.Contains(out, "1 finding posted before, not repeated"))
	assert.Check(t, is.Contains(out, "This review covers the changes since 7e473017ea61."))
}

func TestReviewScrubsSecrets(t *testing.T) {
	env := map[string]string{"CALC_PASSWORD": "hunter2-secret", "ANTHROPIC_API_KEY": "sk-ant-test-0123456789abcdef"}
	code, out, _ := runReviewCmd(t, env, "--secret-env", "CALC_PASSWORD", "--secret-env", "ANTHROPIC_API_KEY", "--secret-env", "UNSET",
		"--from", transcript("claude-secret.jsonl"), "--diff", diffFile("pr.diff"))
	assert.Equal(t, code, 0)
	assert.Check(t, !strings.Contains(out, "hunter2-secret"))
	assert.Check(t, !strings.Contains(out, "sk-ant-test"))
	assert.Check(t, is.Contains(out, "Committed credential: `***`."))
}

func TestReviewUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no transcript", []string{"--diff", diffFile("pr.diff")}, "--from is required"},
		{"no diff", []string{"--from", transcript("codex-empty.jsonl")}, "--diff is required"},
		{"missing file", []string{"--from", "nope.jsonl", "--diff", diffFile("pr.diff")}, "--from: open nope.jsonl: no such file or directory"},
		{"since without earlier", []string{"--from", transcript("codex-empty.jsonl"), "--diff", diffFile("pr.diff"), "--since", diffFile("since.diff")}, "--since needs --earlier"},
		{"unknown agent", []string{"--agent", "bard", "--from", transcript("codex-empty.jsonl"), "--diff", diffFile("pr.diff")}, `unknown agent "bard"`},
		{"bad budget", []string{"--max-diff-bytes", "0", "--from", transcript("codex-empty.jsonl"), "--diff", diffFile("pr.diff")}, "must be positive"},
		{"argument", []string{"extra"}, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runReviewCmd(t, nil, tc.args...)
			assert.Equal(t, code, 2)
			assert.Equal(t, out, "")
			assert.Check(t, is.Contains(errOut, tc.want))
		})
	}
}

// A live review runs the agent in the sandbox (the replay agent printing a
// recorded review) on the working tree's changes, and prints what CI would
// post.
func TestReviewLive(t *testing.T) {
	ws, err := filepath.EvalSymlinks(workspace(t))
	assert.NilError(t, err)
	var base strings.Builder
	base.WriteString("package calc\n\n")
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&base, "// line %d\n", i)
	}
	write := func(name, content string) {
		assert.NilError(t, os.WriteFile(filepath.Join(ws, name), []byte(content), 0o666))
	}
	write("calc.go", base.String())
	hostGit(t, ws, "init", "-q")
	hostGit(t, ws, "add", "calc.go")
	hostGit(t, ws, "commit", "-qm", "base")
	changed := strings.Replace(base.String(), "// line 5\n", "// line 5 changed: divide(a, b) without zero check\nfunc Divide(a, b int) int { return a / b }\n", 1)
	changed = strings.Replace(changed, "// line 53\n", "// line 53 changed\nvar password = \"hunter2-secret\"\n", 1)
	write("calc.go", changed)
	rec, err := os.ReadFile(transcript("claude-anchorable.jsonl"))
	assert.NilError(t, err)
	write(".replay.jsonl", string(rec)) // untracked: not part of the diff
	chmodAll(t, ws)

	env := map[string]string{"CALC_PASSWORD": "hunter2-secret"}
	args := append([]string{"review", "--base", "HEAD", "--secret-env", "CALC_PASSWORD",
		"--image", testimage.Replay(t), "--workspace", ws, "--user", "1000:1000",
		"-e", "REPLAY_DELAY=1ms-2ms", "-e", "REPLAY_TRANSCRIPT=/workspace/.replay.jsonl", "--agent", "claude"}, privateArgs(t)...)
	code, out, errOut := cli(context.Background(), env, args...)
	assert.Equal(t, code, 0, "stderr: %s\nstdout: %s", errOut, out)
	// The agent was asked for the review schema, with the context directory.
	assert.Check(t, is.Contains(errOut, `"--json-schema","{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\"`))
	assert.Check(t, is.Contains(errOut, "/context/diff.patch"))
	// The calc.go findings are on lines of the diff: inline, with their
	// context.
	assert.Check(t, is.Contains(out, "== Inline comments (3) =="))
	assert.Check(t, is.Contains(out, "--- calc.go:8 (RIGHT)\n  |  // line 4\n  | -// line 5\n"))
	assert.Check(t, is.Contains(out, "--- calc.go:56-57 (RIGHT)"))
	assert.Check(t, is.Contains(out, "--- calc.go:7 (LEFT)"))
	// The other files are not in this diff: their findings are in the body.
	assert.Check(t, is.Contains(out, "**Verdict: changes requested** · 7 findings (3 inline, 4 in the review body)"))
	assert.Check(t, is.Contains(out, "#### `old_helper.go:4` (old side) · major"))
	head := strings.TrimSpace(hostGit(t, ws, "rev-parse", "HEAD"))
	assert.Check(t, is.Contains(out, "<!-- sandbox-action:review sha="+head+" fp="))
	assert.Check(t, !strings.Contains(out, "hunter2-secret"))
	assert.Check(t, is.Contains(out, "== Status ==\n\nReview posted: "))
}

func TestReviewLiveUsage(t *testing.T) {
	ws := gitWorkspace(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--base", "HEAD", "--from", "x.jsonl"}, 2, "--base runs the agent: it takes none of --from"},
		{[]string{"--base", "HEAD", "--workspace", ws, "--no-such"}, 2, "unknown flag: --no-such"},
		{[]string{"--base", "HEAD", "--workspace", ws, "--image", "agents:1"}, 2, "--agent is required"},
		{[]string{"--base", "no-such-ref", "--workspace", ws, "--image", "agents:1", "--agent", "claude"}, exitSandboxError, "--base no-such-ref: git merge-base"},
		{[]string{"--base", "HEAD", "--workspace", ws, "--image", "agents:1", "--agent", "claude"}, exitSandboxError, "nothing to review: no changes since the merge base with HEAD"},
	} {
		code, out, errOut := runReviewCmd(t, nil, tc.args...)
		assert.Check(t, is.Equal(code, tc.code), "%v: %s", tc.args, errOut)
		assert.Check(t, is.Equal(out, ""))
		assert.Check(t, is.Contains(errOut, tc.want))
	}
}

package github

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"

	"github.com/org/sandbox-action/internal/fakegithub"
)

const sha = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"

func base() Status {
	return Status{
		Job: "review", Agent: "claude", Model: "claude-sonnet-5", HeadSHA: sha,
		RunID: 9876543210, RunURL: "https://github.com/Codertocat/Hello-World/actions/runs/9876543210",
	}
}

func TestRenderStatusGolden(t *testing.T) {
	stderr := "npm warn deprecated\nError: 529 overloaded_error\n    at retry (cli.js:1:2)\n```\n# injected heading\n"
	tests := []struct {
		name string
		edit func(*Status)
	}{
		{"queued", func(s *Status) { s.Phase = PhaseQueued }},
		{"running", func(s *Status) { s.Phase = PhaseRunning }},
		{"success", func(s *Status) {
			s.Phase, s.Conclusion = PhaseDone, ConclusionSuccess
			s.Details = "**Verdict:** comment · 3 findings (2 inline, 1 in the review body)\n\nThe change is small and safe."
			s.CostUSD, s.Turns, s.Duration, s.PRCostUSD = 0.2071, 5, 72*time.Second+400*time.Millisecond, 0.6271
		}},
		{"success-egress", func(s *Status) {
			s.Phase, s.Conclusion = PhaseDone, ConclusionSuccess
			s.Details = "The change is small and safe."
			s.Egress = "| Destination | Requests | Why |\n|---|---:|---|\n| `pypi.org:443` | 2 | not in the allowlist (in @pypi) |\n\n" +
				"The credential gateway refused 1 request.\n"
			s.CostUSD, s.Turns, s.PRCostUSD = 0.05, 1, 0.05
		}},
		{"success-no-structured-output", func(s *Status) {
			s.Phase, s.Conclusion = PhaseDone, ConclusionSuccess
			s.Details = "Review completed but no structured output found.\n\n> I looked at README.md and it seems fine."
			s.CostUSD, s.Turns, s.PRCostUSD = 0.05, 1, 0.05
		}},
		{"failed", func(s *Status) {
			s.Phase, s.Conclusion = PhaseDone, ConclusionFailure
			s.Reason = "The agent exited with status 1 and reported an error: API overloaded."
			s.StderrTail = stderr
			s.CostUSD, s.Turns, s.Duration, s.PRCostUSD = 0.01, 1, 3*time.Second, 0.64
		}},
		{"timed-out", func(s *Status) {
			s.Phase, s.Conclusion = PhaseDone, ConclusionTimedOut
			s.Reason = "The run was stopped after its 10m limit (`timeout-minutes`)."
			s.StderrTail = "still thinking…\n"
			s.Duration = 10 * time.Minute
		}},
		{"cancelled", func(s *Status) {
			s.Phase, s.Conclusion = PhaseDone, ConclusionCancelled
			s.Reason = "The workflow run was cancelled; the sandbox was stopped and removed."
		}},
		{"skipped-cost", func(s *Status) {
			s.Phase, s.Conclusion = PhaseDone, ConclusionSkipped
			s.Agent, s.Model = "", ""
			s.Reason = "This pull request has cost $5.0200 so far, over `max-pr-cost-usd` ($5.00): no new run was started."
			s.PRCostUSD = 5.02
		}},
		{"skipped-fork", func(s *Status) {
			s.Phase, s.Conclusion = PhaseDone, ConclusionSkipped
			s.Job, s.Agent, s.Model = "task", "", ""
			s.Reason = "Pull requests from forks run without secrets and with a read-only token."
			s.RunURL = ""
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.edit(&s)
			out := RenderStatus(s)
			golden.Assert(t, out, "status-"+tc.name+".golden")
			assert.Check(t, is.Contains(out, "View run logs"))
			m, ok := ParseMarker(out)
			assert.Check(t, ok)
			assert.Equal(t, m, s.Marker())
		})
	}
}

func TestRenderStatusFencesStderr(t *testing.T) {
	s := base()
	s.Phase, s.Conclusion = PhaseDone, ConclusionFailure
	s.StderrTail = "a ```` b\n```\n"
	out := RenderStatus(s)
	assert.Check(t, is.Contains(out, "`````text\n"), "fence longer than any backtick run in stderr")
}

func TestRenderStatusLimits(t *testing.T) {
	s := base()
	s.Phase, s.Conclusion = PhaseDone, ConclusionFailure
	s.Details = strings.Repeat("é", 100000)
	var lines []string
	for i := range 500 {
		lines = append(lines, strings.Repeat("x", 10)+" line "+string(rune('a'+i%26)))
	}
	s.StderrTail = strings.Join(lines, "\n")
	out := RenderStatus(s)
	assert.Check(t, len([]rune(out)) <= 65536)
	assert.Check(t, is.Contains(out, "(truncated; the full text is in the run logs)"))
	assert.Check(t, strings.HasSuffix(out, "[View run logs](https://github.com/Codertocat/Hello-World/actions/runs/9876543210)\n"))
	assert.Equal(t, strings.Count(out, " line "), maxStderrLines)
}

func TestMarkerRoundTrip(t *testing.T) {
	for _, m := range []Marker{
		{},
		{RunID: 1, PRCostUSD: 0.1234, HeadSHA: sha, Conclusion: ConclusionSuccess},
		{RunID: math.MaxInt64, PRCostUSD: 12345.5},
	} {
		got, ok := ParseMarker("text before\n" + m.String() + "\nafter")
		assert.Check(t, ok)
		assert.Equal(t, got, m)
	}
}

func TestParseMarkerDamaged(t *testing.T) {
	tests := []struct {
		body string
		ok   bool
		want Marker
	}{
		{"no marker", false, Marker{}},
		{"<!-- sandbox-action:reply -->", false, Marker{}},
		{"<!-- sandbox-action:status run=abc pr-cost-usd=NaN -->", true, Marker{}},
		{"<!-- sandbox-action:status pr-cost-usd=-3 -->", true, Marker{}},
		{"<!-- sandbox-action:status pr-cost-usd=+Inf -->", true, Marker{}},
		{"<!-- sandbox-action:status run=7 future=x pr-cost-usd=1.5 -->", true, Marker{RunID: 7, PRCostUSD: 1.5}},
	}
	for _, tc := range tests {
		got, ok := ParseMarker(tc.body)
		assert.Equal(t, ok, tc.ok, tc.body)
		assert.Equal(t, got, tc.want, tc.body)
	}
}

func TestRunURL(t *testing.T) {
	env := map[string]string{"GITHUB_SERVER_URL": "https://ghe.example.test/", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "42"}
	get := func(k string) string { return env[k] }
	assert.Equal(t, RunURL(get), "https://ghe.example.test/o/r/actions/runs/42")
	assert.Equal(t, RunID(get), int64(42))
	delete(env, "GITHUB_SERVER_URL")
	assert.Equal(t, RunURL(get), "https://github.com/o/r/actions/runs/42")
	delete(env, "GITHUB_RUN_ID")
	assert.Equal(t, RunURL(get), "")
	assert.Equal(t, RunID(get), int64(0))
}

// TestStatusScrubsSecretsBeforeCutting: the status comment shortens the
// agent's text and stderr; a secret lying across the cut must not leave its
// first or last part in the clear, which it would if scrubbing came after
// the cut.
func TestStatusScrubsSecretsBeforeCutting(t *testing.T) {
	const secret = "sk-ant-api03-0123456789abcdefghijklmnopqrstuvwxyz"
	half := secret[:len(secret)/2]
	tail := secret[len(secret)/2:]
	f := fakegithub.New(t)
	c, err := New(Options{APIURL: f.URL, Token: fakegithub.DefaultToken, Secrets: []string{secret}})
	assert.NilError(t, err)
	for _, tc := range []struct {
		name string
		edit func(*Status)
		part string
	}{
		{"details cut after the secret's first half", func(s *Status) {
			s.Details = strings.Repeat("x", maxDetailsRunes-80) + secret + strings.Repeat("y", 100)
		}, half},
		{"stderr cut before the secret's second half", func(s *Status) {
			s.StderrTail = strings.Repeat("y", 100) + secret + strings.Repeat("x", maxStderrRunes-len(tail))
		}, tail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := base()
			st.Phase, st.Conclusion = PhaseDone, ConclusionFailure
			tc.edit(&st)
			sc := c.NewStatus(repo, 2)
			assert.NilError(t, sc.Update(context.Background(), st))
			assert.Assert(t, !strings.Contains(sc.Body, tc.part), "part of the secret posted: %q", tc.part)
		})
	}
}

// The reason and the details carry the agent's words (its error, a task's
// answer). Whatever they leave open (an HTML comment, a code fence) must not
// swallow what follows: the egress report, the figures and the link to the
// logs stay visible.
func TestRenderStatusKeepsTheAgentsTextFromHidingTheRest(t *testing.T) {
	for _, tc := range []struct{ name, reason, details string }{
		{"an HTML comment in the reason", "the agent exited with status 1: done <!-- hide", ""},
		{"an HTML comment in the details", "", "All fine.\n\n<!--\n"},
		{"two, one closed", "", "a <!-- x --> b <!-- hide"},
		{"a fence in the details", "", "Here:\n\n~~~~\ncode"},
		{"a fence cut by the limit", "", "```go\n" + strings.Repeat("x\n", 30000)},
		{"a comment opened inside a fence stays text", "", "```\n<!--\n```\nAll fine."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			s.Phase, s.Conclusion = PhaseDone, ConclusionFailure
			s.Reason, s.Details = tc.reason, tc.details
			s.Egress = "| Destination | Requests | Why |\n|---|---:|---|\n| `evil.example:443` | 1 | not in the allowlist |\n"
			out := RenderStatus(s)
			for _, want := range []string{"<details><summary>Egress refused</summary>", "[View run logs]("} {
				i := strings.Index(out, want)
				assert.Assert(t, i >= 0, out)
				assert.Check(t, !hiddenAt(out, i), "%q is hidden:\n%s", want, out)
			}
		})
	}
}

// hiddenAt reports whether offset i of md lies in an HTML comment or a
// fenced code block (CommonMark: a fence closes with the same character, at
// least as many, and nothing else on its line; a comment runs from <!-- to
// the next -->, or to the end).
func hiddenAt(md string, i int) bool {
	fence, comment := "", false
	pos := 0
	for _, line := range strings.SplitAfter(md, "\n") {
		if pos+len(line) > i && !comment {
			// The line i is on: hidden if a fence is open, or a comment
			// opens before i on it.
			if fence != "" {
				return true
			}
			pre := line[:i-pos]
			return strings.LastIndex(pre, "<!--") > strings.LastIndex(pre, "-->")
		}
		pos += len(line)
		t := strings.TrimSpace(line)
		switch {
		case comment:
			if strings.Contains(line, "-->") {
				comment = false
			}
		case fence != "":
			if strings.HasPrefix(t, fence[:1]) && len(t)-len(strings.TrimLeft(t, fence[:1])) >= len(fence) && strings.TrimLeft(t, fence[:1]) == "" {
				fence = ""
			}
		case strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~"):
			c := t[:1]
			fence = t[:len(t)-len(strings.TrimLeft(t, c))]
		default:
			if o := strings.LastIndex(line, "<!--"); o >= 0 && !strings.Contains(line[o:], "-->") {
				comment = true
			}
		}
		if pos > i {
			return comment || fence != ""
		}
	}
	return comment || fence != ""
}

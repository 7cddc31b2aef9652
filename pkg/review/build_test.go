package review

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"
)

// Head commits of the two pushes recorded in testdata/diff (see SOURCES.md).
const (
	head1 = "7e473017ea61650cd0222f0a3140e85f9f556926"
	head2 = "d21564e7f0a76ed0ce43b7d09d66b836bbaba793"
)

func readDiff(t testing.TB, name string) *Diff {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "diff", name))
	assert.NilError(t, err)
	defer f.Close()
	d, err := ParseDiff(f)
	assert.NilError(t, err)
	return d
}

func readRun(t testing.TB, name string) Input {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "transcripts", name))
	assert.NilError(t, err)
	res, err := ReadTranscript("", b)
	assert.NilError(t, err)
	return Input{Result: res}
}

// assertGolden compares what `sandbox review` prints and what is posted.
func assertGolden(t *testing.T, name string, p *Posted, d *Diff) {
	t.Helper()
	golden.Assert(t, p.Text(d), name+".txt")
	b, err := json.MarshalIndent(p, "", "  ")
	assert.NilError(t, err)
	golden.Assert(t, string(b)+"\n", name+".json")
}

func TestBuild(t *testing.T) {
	type want struct {
		outcome                   Outcome
		event                     string
		findings, inline, inBody  int
		agent                     string
		problemFields             []string
		statusHas, bodyHas, notIn []string
	}
	tests := []struct {
		name, transcript, diff string
		opts                   Options
		want                   want
	}{
		{
			name: "anchorable", transcript: "claude-anchorable.jsonl", diff: "pr.diff",
			want: want{outcome: OutcomeReviewed, event: EventComment, findings: 7, inline: 7, agent: "claude",
				statusHas: []string{"**Verdict: changes requested** · 7 findings (7 inline, 0 in the review body)"}},
		},
		{
			name: "anchorable-request-changes", transcript: "claude-anchorable.jsonl", diff: "pr.diff",
			opts: Options{RequestChanges: true},
			want: want{outcome: OutcomeReviewed, event: EventRequestChanges, findings: 7, inline: 7, agent: "claude"},
		},
		{
			name: "outside", transcript: "claude-outside.jsonl", diff: "pr.diff",
			want: want{outcome: OutcomeReviewed, event: EventComment, findings: 7, inline: 1, inBody: 6, agent: "claude",
				bodyHas: []string{
					"#### `calc.go:30` · major", "line 30 (RIGHT) is not part of the diff",
					"#### `missing.go:1`", "the file is not part of the diff",
					"#### `calc.go:8-56` · major", "lines 8–56 span more than one hunk",
					"#### `old_helper.go:4` · major", "the file is deleted",
					"#### `new_feature.go:2` (old side) · minor", "the file is new",
					"#### `logo.png:1` · nit", "the file is binary",
				}},
		},
		{
			name: "secret", transcript: "claude-secret.jsonl", diff: "pr.diff",
			opts: Options{Secrets: []string{"hunter2-secret", "sk-ant-test-0123456789abcdef"}},
			want: want{outcome: OutcomeReviewed, event: EventComment, findings: 2, inline: 1, inBody: 1, agent: "claude",
				notIn: []string{"hunter2-secret", "sk-ant-test-0123456789abcdef"}},
		},
		{
			name: "empty-findings", transcript: "codex-empty.jsonl", diff: "pr.diff",
			want: want{outcome: OutcomeReviewed, event: EventComment, agent: "codex",
				statusHas: []string{"Review posted: **Verdict: comment** · 0 findings"}},
		},
		{
			name: "gemini-fenced", transcript: "gemini-fenced.jsonl", diff: "pr.diff",
			want: want{outcome: OutcomeReviewed, event: EventComment, findings: 2, inline: 2, agent: "gemini"},
		},
		{
			name: "no-structured-output", transcript: "claude-real-text-only.jsonl", diff: "pr.diff",
			want: want{outcome: OutcomeNoOutput, agent: "claude",
				statusHas: []string{"Review completed but no structured output found.", "The agent's final text:"}},
		},
		{
			name: "schema-failure-real", transcript: "claude-real-other-schema.jsonl", diff: "pr.diff",
			want: want{outcome: OutcomeInvalid, agent: "claude", problemFields: []string{"(output)", "(output)"},
				statusHas: []string{"Review completed but the structured output is invalid:", "missing properties", "additional properties"}},
		},
		{
			name: "invalid-json", transcript: "codex-invalid-json.jsonl", diff: "pr.diff",
			want: want{outcome: OutcomeInvalid, agent: "codex", problemFields: []string{"(output)"},
				statusHas: []string{"not valid JSON"}},
		},
		{
			name: "schema-failure-fields", transcript: "gemini-schema-invalid.jsonl", diff: "pr.diff",
			want: want{outcome: OutcomeInvalid, agent: "gemini",
				problemFields: []string{"findings[0].line", "findings[0].severity", "findings[1]", "findings[1].body", "findings[1].path", "findings[1].start_line", "findings[1].suggestion", "summary", "verdict"},
				statusHas:     []string{"- `findings[0].line`: got string, want integer"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := readRun(t, tc.transcript)
			d := readDiff(t, tc.diff)
			in.Diff, in.Head, in.Options = d, head1, tc.opts
			p := Build(in)
			w := tc.want
			assert.Equal(t, in.Result.Agent, w.agent)
			assert.Equal(t, p.Outcome, w.outcome)
			assert.Equal(t, p.Event, w.event)
			assert.Equal(t, p.Post, w.outcome == OutcomeReviewed)
			assert.Equal(t, p.Counts.Findings, w.findings)
			assert.Equal(t, p.Counts.Inline, w.inline)
			assert.Equal(t, p.Counts.InBody, w.inBody)
			assert.Equal(t, len(p.Comments), w.inline)
			var fields []string
			for _, pr := range p.Problems {
				fields = append(fields, pr.Field)
			}
			assert.DeepEqual(t, fields, w.problemFields)
			for _, s := range w.statusHas {
				assert.Check(t, is.Contains(p.Status, s))
			}
			for _, s := range w.bodyHas {
				assert.Check(t, is.Contains(p.Body, s))
			}
			out, _ := json.Marshal(p)
			for _, s := range w.notIn {
				assert.Check(t, !strings.Contains(p.Text(d), s), "%q in the printed review", s)
				assert.Check(t, !strings.Contains(string(out), s), "%q in the posted review", s)
			}
			if p.Post {
				// The body and the status state the same verdict and counts.
				line := verdictLine(p.Verdict, p.Counts)
				assert.Check(t, is.Contains(p.Body, line))
				assert.Check(t, is.Contains(p.Status, line))
				assert.Check(t, is.Contains(p.Body, p.Marker.String()))
				assert.Equal(t, len(p.Marker.Fingerprints), p.Counts.Findings)
			}
			assertGolden(t, "build-"+tc.name, p, d)
		})
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	assert.NilError(t, err)
	return b
}

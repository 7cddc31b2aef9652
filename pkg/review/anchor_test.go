package review

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/pkg/agent"
)

func TestAnchor(t *testing.T) {
	d := readDiff(t, "pr.diff")
	tests := []struct {
		name   string
		f      Finding
		inline bool
		path   string
		reason string
	}{
		{"added line", Finding{Path: "calc.go", Line: 8}, true, "calc.go", ""},
		{"context line right", Finding{Path: "calc.go", Line: 4, Side: SideRight}, true, "calc.go", ""},
		{"context line left", Finding{Path: "calc.go", Line: 4, Side: SideLeft}, true, "calc.go", ""},
		{"deleted line left", Finding{Path: "calc.go", Line: 55, Side: SideLeft}, true, "calc.go", ""},
		{"deleted line number on the right is another line", Finding{Path: "calc.go", Line: 55, Side: SideRight}, true, "calc.go", ""},
		{"range in one hunk", Finding{Path: "calc.go", StartLine: 53, Line: 60}, true, "calc.go", ""},
		{"range start outside the diff", Finding{Path: "calc.go", StartLine: 40, Line: 56}, false, "calc.go", "start line 40 (RIGHT) is not part of the diff"},
		{"range across hunks", Finding{Path: "calc.go", StartLine: 8, Line: 56}, false, "calc.go", "lines 8–56 span more than one hunk of the diff"},
		{"line between hunks", Finding{Path: "calc.go", Line: 30}, false, "calc.go", "line 30 (RIGHT) is not part of the diff"},
		{"past the end", Finding{Path: "calc.go", Line: 61}, false, "calc.go", "line 61 (RIGHT) is not part of the diff"},
		{"deleted file left", Finding{Path: "old_helper.go", Line: 6, Side: SideLeft}, true, "old_helper.go", ""},
		{"deleted file right", Finding{Path: "old_helper.go", Line: 1, Side: SideRight}, false, "old_helper.go", "the file is deleted: only its old (LEFT) lines can carry a comment"},
		{"new file left", Finding{Path: "new_feature.go", Line: 1, Side: SideLeft}, false, "new_feature.go", "the file is new: it has no old (LEFT) lines"},
		{"renamed file by new path", Finding{Path: "utils/util.go", Line: 33}, true, "utils/util.go", ""},
		{"renamed file by old path", Finding{Path: "util.go", Line: 30, Side: SideLeft}, true, "utils/util.go", ""},
		{"a/ prefix", Finding{Path: "a/calc.go", Line: 7, Side: SideLeft}, true, "calc.go", ""},
		{"./ prefix", Finding{Path: "./calc.go", Line: 7}, true, "calc.go", ""},
		{"binary", Finding{Path: "logo.png", Line: 1}, false, "logo.png", "the file is binary"},
		{"not in the diff", Finding{Path: "README.md", Line: 1}, false, "README.md", "the file is not part of the diff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Anchor(d, []Finding{tc.f})
			assert.Equal(t, len(got), 1)
			assert.Equal(t, got[0].Inline, tc.inline)
			assert.Equal(t, got[0].Finding.Path, tc.path)
			assert.Equal(t, got[0].Reason, tc.reason)
			assert.Equal(t, got[0].Finding.Side != "", true)
		})
	}
}

func TestLineTextAndContext(t *testing.T) {
	d := readDiff(t, "pr.diff")
	text, ok := d.LineText("calc.go", SideRight, 57)
	assert.Check(t, ok)
	assert.Equal(t, text, `var password = "hunter2-secret"`)
	text, ok = d.LineText("calc.go", SideLeft, 55)
	assert.Check(t, ok)
	assert.Equal(t, text, "// line 53")
	_, ok = d.LineText("nope.go", SideRight, 1)
	assert.Check(t, !ok)
	assert.DeepEqual(t, d.Context("calc.go", SideRight, 0, 8, 1), []string{
		"+// line 5 changed: divide(a, b) without zero check",
		"+func Divide(a, b int) int { return a / b }",
	})
	assert.Check(t, d.Context("calc.go", SideRight, 0, 30, 3) == nil)
}

func TestParseDiffError(t *testing.T) {
	_, err := ParseDiff(strings.NewReader("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n"))
	assert.ErrorContains(t, err, "parse diff")
}

func FuzzAnchor(f *testing.F) {
	f.Add(string(readFile(f, "diff/pr.diff")), "calc.go", 8, 0, true)
	f.Add(string(readFile(f, "diff/pr.diff")), "util.go", 33, 30, false)
	f.Add("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", "x", 1, 0, false)
	f.Add("", "", 0, 0, true)
	f.Fuzz(func(t *testing.T, diff, path string, line, start int, right bool) {
		d, err := ParseDiff(strings.NewReader(diff))
		if err != nil {
			return
		}
		side := SideLeft
		if right {
			side = SideRight
		}
		got := Anchor(d, []Finding{{Path: path, Line: line, StartLine: start, Side: side}})
		if len(got) != 1 {
			t.Fatalf("%d results for one finding", len(got))
		}
		a := got[0]
		if a.Inline == (a.Reason != "") {
			t.Fatalf("inline %v with reason %q", a.Inline, a.Reason)
		}
		if a.Inline {
			if _, ok := d.LineText(a.Finding.Path, side, line); !ok {
				t.Fatalf("inline at %s:%d but the line is not in the diff", a.Finding.Path, line)
			}
			if start > 0 {
				if _, ok := d.LineText(a.Finding.Path, side, start); !ok {
					t.Fatalf("inline range from %d but the line is not in the diff", start)
				}
			}
		}
		_ = d.Context(path, side, start, line, 3)
	})
}

// benchDiff is a diff of files×hunks hunks of 10 lines each (4 context, 3
// deleted, 3 added), about lines lines in all.
func benchDiff(lines int) string {
	var b strings.Builder
	const hunks = 10
	files := (lines + hunks*11 - 1) / (hunks * 11) // 11 diff lines a hunk
	for f := 0; f < files; f++ {
		name := fmt.Sprintf("pkg/f%03d.go", f)
		fmt.Fprintf(&b, "diff --git a/%s b/%s\nindex 1111111..2222222 100644\n--- a/%s\n+++ b/%s\n", name, name, name, name)
		for h := 0; h < hunks; h++ {
			start := 1 + h*50
			fmt.Fprintf(&b, "@@ -%d,7 +%d,7 @@ func f%d()\n", start, start, h)
			b.WriteString(" ctx a\n ctx b\n-old 1\n-old 2\n-old 3\n+new 1\n+new 2\n+new 3\n ctx c\n ctx d\n")
		}
	}
	return b.String()
}

func benchFindings(n, files int) []Finding {
	fs := make([]Finding, n)
	for i := range fs {
		f := i % files
		h := (i / files) % 10
		side := SideRight
		if i%3 == 0 {
			side = SideLeft
		}
		line := 1 + h*50 + i%7
		if i%5 == 0 {
			line += 20 // between hunks: to the body
		}
		fs[i] = Finding{Path: fmt.Sprintf("pkg/f%03d.go", f), Line: line, Side: side, Severity: SeverityMinor, Body: fmt.Sprintf("finding %d", i)}
		if i%4 == 0 {
			fs[i].StartLine = line - 1
		}
	}
	return fs
}

// BenchmarkAnchor measures parsing a 10 000-line diff and anchoring 500
// findings to it (the goal: at most 50 ms).
func BenchmarkAnchor(b *testing.B) {
	text := benchDiff(10000)
	if n := strings.Count(text, "\n"); n < 10000 {
		b.Fatalf("diff has %d lines", n)
	}
	findings := benchFindings(500, (10000+109)/110)
	b.ReportAllocs()
	for b.Loop() {
		d, err := ParseDiff(strings.NewReader(text))
		if err != nil {
			b.Fatal(err)
		}
		got := Anchor(d, findings)
		if len(got) != 500 {
			b.Fatal(len(got))
		}
	}
}

// BenchmarkBuild measures what follows the agent's exit: validating a
// 500-finding review, anchoring it to a 10 000-line diff, fingerprinting and
// rendering the body, the comments and the status.
func BenchmarkBuild(b *testing.B) {
	d, err := ParseDiff(strings.NewReader(benchDiff(10000)))
	if err != nil {
		b.Fatal(err)
	}
	r := Review{Summary: "s", Verdict: VerdictComment, Findings: benchFindings(500, (10000+109)/110)}
	for i := range r.Findings {
		if r.Findings[i].Side == SideLeft {
			continue
		}
		sug := "replacement"
		r.Findings[i].Suggestion = &sug
	}
	raw, err := json.Marshal(r)
	if err != nil {
		b.Fatal(err)
	}
	res := agent.Result{Agent: "claude", StructuredOutput: raw}
	b.ReportAllocs()
	for b.Loop() {
		p := Build(Input{Result: res, Diff: d, Head: "abc", Options: Options{Secrets: []string{"sk-secret-value"}}})
		if !p.Post || p.Counts.Findings != 500 {
			b.Fatalf("%+v %v", p.Counts, p.Problems)
		}
	}
}

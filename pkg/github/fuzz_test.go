package github

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseEvent feeds mutated real payloads: the parser must never panic,
// and what it accepts must be complete enough to act on.
func FuzzParseEvent(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		name, _, _ := strings.Cut(filepath.Base(file), ".")
		f.Add(name, b)
	}
	f.Add("pull_request", []byte(`{"action":"opened","pull_request":{"number":1,"head":{"sha":"a"},"base":{"repo":{"full_name":"o/r"}}},"repository":{"full_name":"o/r"}}`))
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		ev, err := ParseEvent(name, payload)
		if err != nil {
			return
		}
		switch ev.Kind {
		case KindUnsupported, KindSkip:
			if ev.Reason == "" {
				t.Fatalf("%s without a reason", ev.Kind)
			}
			return
		case KindReview:
			if ev.PR == nil || ev.PR.Number <= 0 || ev.PR.HeadSHA == "" {
				t.Fatalf("review without a pull request: %+v", ev.PR)
			}
		case KindCommand:
			if ev.Comment == nil || ev.Comment.ID == 0 || ev.PR == nil || ev.PR.Number <= 0 {
				t.Fatalf("command without a comment or PR: %+v %+v", ev.Comment, ev.PR)
			}
		case KindTask:
			if ev.Task == nil {
				t.Fatal("task without a task")
			}
		default:
			t.Fatalf("kind %q", ev.Kind)
		}
		if ev.Repo.Owner == "" || ev.Repo.Name == "" {
			t.Fatalf("no repository: %+v", ev.Repo)
		}
	})
}

// FuzzParseMarker: any comment body parses without panic, and a marker
// parsed and rendered again parses to itself.
func FuzzParseMarker(f *testing.F) {
	f.Add("<!-- sandbox-action:status run=1 pr-cost-usd=0.5000 head=abc conclusion=success -->")
	f.Add("<!-- sandbox-action:status run=-1 pr-cost-usd=1e308 -->")
	f.Add("x <!-- sandbox-action:status  -->")
	f.Fuzz(func(t *testing.T, body string) {
		m, ok := ParseMarker(body)
		if !ok {
			return
		}
		again, ok := ParseMarker(m.String())
		if !ok {
			t.Fatalf("rendered marker %q does not parse", m.String())
		}
		// Costs are rendered with four decimals.
		if again.RunID != m.RunID || again.HeadSHA != m.HeadSHA || again.Conclusion != m.Conclusion {
			t.Fatalf("round trip: %+v != %+v", again, m)
		}
		if d := again.PRCostUSD - m.PRCostUSD; d > 0.00005 || d < -0.00005 {
			t.Fatalf("cost %v != %v", again.PRCostUSD, m.PRCostUSD)
		}
	})
}

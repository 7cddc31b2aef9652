package github

import (
	"context"
	"testing"

	"github.com/org/sandbox-action/internal/fakegithub"
)

// BenchmarkFinalStatus measures what the action spends between the agent's
// exit and the final status comment on the loopback fake: one edit of the
// existing comment. The goal is ≤ 0.5 s.
func BenchmarkFinalStatus(b *testing.B) {
	f := fakegithub.New(b)
	c, err := New(Options{APIURL: f.URL, Token: fakegithub.DefaultToken, Secrets: []string{"sk-ant-secret-value"}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	sc := c.NewStatus(repo, 2)
	st := base()
	st.Phase = PhaseRunning
	if err := sc.Update(ctx, st); err != nil {
		b.Fatal(err)
	}
	st.Phase, st.Conclusion, st.Details = PhaseDone, ConclusionSuccess, "**Verdict:** comment · 3 findings"
	b.ResetTimer()
	for b.Loop() {
		if err := sc.Update(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindStatus measures finding the status comment among 300
// comments (three pages).
func BenchmarkFindStatus(b *testing.B) {
	f := fakegithub.New(b)
	for range 299 {
		f.AddComment(repoName, 2, "Codertocat", "a comment")
	}
	f.AddComment(repoName, 2, "github-actions[bot]", Marker{RunID: 1}.String())
	c, err := New(Options{APIURL: f.URL, Token: fakegithub.DefaultToken})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		sc, err := c.FindStatus(context.Background(), repo, 2, "")
		if err != nil || !sc.Found {
			b.Fatal(err)
		}
	}
}

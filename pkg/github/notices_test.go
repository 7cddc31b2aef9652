package github

import (
	"context"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"

	"github.com/org/sandbox-action/internal/fakegithub"
)

func TestCostExceeded(t *testing.T) {
	for _, tc := range []struct {
		spent, limit float64
		exceeded     bool
	}{
		{0, 0, false}, {100, 0, false}, {4.99, 5, false}, {5, 5, true}, {5.02, 5, true},
	} {
		reason, ok := CostExceeded(Marker{PRCostUSD: tc.spent}, tc.limit)
		assert.Equal(t, ok, tc.exceeded, "%v", tc)
		assert.Equal(t, reason != "", tc.exceeded)
	}
	reason, _ := CostExceeded(Marker{PRCostUSD: 5.02}, 5)
	golden.Assert(t, reason, "notice-cost.golden")
}

func TestForkText(t *testing.T) {
	golden.Assert(t, ForkText(DefaultTrigger, &PullRequest{HeadRepo: "mallory/Hello-World"}), "notice-fork.golden")
	assert.Check(t, is.Contains(ForkText("@bot", nil), "comes from a fork."))
	assert.Check(t, is.Contains(ForkText("@bot", nil), "`@bot review`"))
}

func TestDryRunPostsNothing(t *testing.T) {
	f := newFake(t)
	id := f.AddComment(repoName, 2, "Codertocat", "@sandbox-bot review")
	before := len(f.Requests())
	c := newClient(t, f, func(o *Options) { o.DryRun = true; o.Secrets = []string{"sk-secret-value"} })
	ctx := context.Background()

	pr, err := c.PullRequest(ctx, repo, 2)
	assert.NilError(t, err, "reads still happen")
	assert.NilError(t, c.Acknowledge(ctx, repo, &Comment{ID: id, Kind: CommentIssue}))
	_, err = c.Reply(ctx, repo, 2, "hello")
	assert.NilError(t, err)
	sc, err := c.FindStatus(ctx, repo, 2, "")
	assert.NilError(t, err)
	st := base()
	st.Phase = PhaseRunning
	assert.NilError(t, sc.Update(ctx, st))
	st.Phase, st.Conclusion, st.Details = PhaseDone, ConclusionSuccess, "key sk-secret-value"
	assert.NilError(t, sc.Update(ctx, st))
	rid, err := c.CreateReview(ctx, repo, 2, pr.HeadSHA, "Summary", ReviewComment,
		[]InlineComment{{Path: "README.md", Line: 1, Body: "nit"}, {Path: "a.go", StartLine: 3, Line: 5, Body: "```go\nx := 1\n```"}})
	assert.NilError(t, err)
	assert.Equal(t, rid, int64(0))

	for _, r := range f.Requests()[before:] {
		assert.Equal(t, r.Method, "GET", "dry run wrote %s %s", r.Method, r.Path)
	}
	posts := c.DryRunPosts()
	assert.Equal(t, len(posts), 5)
	golden.Assert(t, RenderDryRun(posts), "dry-run.golden")
	assert.Check(t, !strings.Contains(RenderDryRun(posts), "sk-secret-value"))
	assert.Equal(t, RenderDryRun(nil), "### Dry run: nothing was posted\n\nNothing would have been posted.\n")
}

func TestSelf(t *testing.T) {
	f := newFake(t)
	u, err := newClient(t, f).Self(context.Background())
	assert.NilError(t, err)
	assert.Equal(t, u, User{Login: "github-actions[bot]", Type: "Bot"})

	f.Fail(fakegithub.Fault{Method: "GET", Path: "/user", Status: 403, Body: `{"message":"Resource not accessible by integration"}`})
	u, err = newClient(t, f).Self(context.Background())
	assert.NilError(t, err)
	assert.Equal(t, u, User{})
}

package github

import (
	"context"
	"errors"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestCompareDiff(t *testing.T) {
	const old = "1111111111111111111111111111111111111111"
	f := newFake(t)
	diff := "diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n # Hello World\n+More.\n"
	f.AddComparison(repoName, old, sha, diff)
	c := newClient(t, f)
	ctx := context.Background()

	got, err := c.CompareDiff(ctx, repo, old, sha)
	assert.NilError(t, err)
	assert.Equal(t, got, diff)
	reqs := f.Requests()
	last := reqs[len(reqs)-1]
	assert.Check(t, is.Equal(last.Path, "/repos/"+repoName+"/compare/"+old+"..."+sha))
	assert.Check(t, is.Contains(last.Accept, "diff"))

	// A commit GitHub does not have (a head replaced by a force push).
	_, err = c.CompareDiff(ctx, repo, "2222222222222222222222222222222222222222", sha)
	assert.Check(t, errors.Is(err, ErrNotFound), "%v", err)
	assert.Check(t, is.ErrorContains(err, "compare 2222222222222222222222222222222222222222..."))
}

package github

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/fakegithub"
	"github.com/org/sandbox-action/pkg/review"
)

const reviewHead = "7e473017ea61650cd0222f0a3140e85f9f556926"

func builtReview(t *testing.T) *review.Posted {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "review", "claude-anchorable.jsonl"))
	assert.NilError(t, err)
	res, err := review.ReadTranscript("", b)
	assert.NilError(t, err)
	f, err := os.Open(filepath.Join("testdata", "review", "pr.diff"))
	assert.NilError(t, err)
	defer f.Close()
	d, err := review.ParseDiff(f)
	assert.NilError(t, err)
	p := review.Build(review.Input{Result: res, Diff: d, Head: reviewHead})
	assert.Assert(t, p.Post)
	assert.Assert(t, len(p.Comments) > 2)
	return p
}

func reviewFake(t *testing.T) *fakegithub.Server {
	f := fakegithub.New(t)
	f.AddPull(&fakegithub.Pull{Repo: repoName, Number: 7,
		Head: fakegithub.Branch{SHA: reviewHead, Repo: repoName}, Base: fakegithub.Branch{Repo: repoName}})
	return f
}

func TestPostReview(t *testing.T) {
	f := reviewFake(t)
	p := builtReview(t)
	id, err := newClient(t, f).PostReview(context.Background(), repo, 7, reviewHead, p)
	assert.NilError(t, err)
	rs := f.Reviews(repoName, 7)
	assert.Equal(t, len(rs), 1)
	assert.Equal(t, rs[0].ID, id)
	assert.Equal(t, rs[0].Body, p.Body)
	assert.Equal(t, len(rs[0].Comments), len(p.Comments))
	assert.Equal(t, rs[0].Comments[0].Path, p.Comments[0].Path)
	assert.Equal(t, rs[0].Comments[0].Line, p.Comments[0].Line)
}

func TestPostReview422NamedComment(t *testing.T) {
	f := reviewFake(t)
	p := builtReview(t)
	n := len(p.Comments)
	refused := p.Comments[1]
	f.Fail(fakegithub.ReviewUnprocessable(`"path":"`+refused.Path+`"`, "comments[1] line could not be resolved"))
	id, err := newClient(t, f).PostReview(context.Background(), repo, 7, reviewHead, p)
	assert.NilError(t, err)
	assert.Check(t, id > 0)
	rs := f.Reviews(repoName, 7)
	assert.Equal(t, len(rs), 1, "one review in the end")
	assert.Equal(t, len(rs[0].Comments), n-1)
	assert.Equal(t, p.Counts.InBody, 1)
	assert.Check(t, is.Contains(rs[0].Body, review.RejectedReason))
	assert.Check(t, is.Contains(p.Status, "1 in the review body"), "the status agrees with what was posted")
}

func TestPostReview422Unnamed(t *testing.T) {
	f := reviewFake(t)
	p := builtReview(t)
	n := len(p.Comments)
	f.Fail(fakegithub.ReviewUnprocessable(`"comments":[{`))
	_, err := newClient(t, f).PostReview(context.Background(), repo, 7, reviewHead, p)
	assert.NilError(t, err)
	rs := f.Reviews(repoName, 7)
	assert.Equal(t, len(rs), 1)
	assert.Equal(t, len(rs[0].Comments), 0)
	assert.Equal(t, p.Counts.InBody, n)
}

func TestPostReviewGivesUp(t *testing.T) {
	f := reviewFake(t)
	p := builtReview(t)
	// Refused even with everything in the body: the error is returned, not
	// looped on.
	f.Fail(fakegithub.Fault{Method: http.MethodPost, Path: "/repos/*/*/pulls/*/reviews", Times: 100, Status: 422,
		Body: `{"message":"Unprocessable Entity","errors":["Review body is too long"]}`})
	_, err := newClient(t, f).PostReview(context.Background(), repo, 7, reviewHead, p)
	var re *ReviewError
	assert.Assert(t, errors.As(err, &re), "%v", err)
	assert.Equal(t, len(f.Requests()), 2, "all comments moved once, then given up")

	p.Post = false
	id, err := newClient(t, f).PostReview(context.Background(), repo, 7, reviewHead, p)
	assert.NilError(t, err)
	assert.Equal(t, id, int64(0))
}

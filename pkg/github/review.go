package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v62/github"
)

// Review events.
const (
	ReviewComment        = "COMMENT"
	ReviewRequestChanges = "REQUEST_CHANGES"
	ReviewApprove        = "APPROVE"
)

// InlineComment is one inline comment of a review. Line (and StartLine for
// a range) are lines of the file on Side (RIGHT: the new file, LEFT: the
// old one); they must lie in the diff or GitHub answers 422.
type InlineComment struct {
	Path      string
	Line      int
	StartLine int
	// Side and StartSide are "RIGHT" (default) or "LEFT".
	Side      string
	StartSide string
	Body      string
}

// ReviewError is GitHub refusing a review with 422. Comment is the index in
// the comments passed to CreateReview of the comment GitHub named, or -1 when
// its answer does not say which (it usually does not): the caller moves
// comments into the body and tries again.
type ReviewError struct {
	Messages []string
	Comment  int
	err      error
}

func (e *ReviewError) Error() string {
	which := ""
	if e.Comment >= 0 {
		which = fmt.Sprintf(" (comment %d)", e.Comment)
	}
	return fmt.Sprintf("review refused%s: %s", which, strings.Join(e.Messages, "; "))
}

func (e *ReviewError) Unwrap() error { return e.err }

// CreateReview posts one review on commit headSHA of the pull request with
// the body, event (ReviewComment, ReviewRequestChanges, ReviewApprove) and
// inline comments, all scrubbed of secrets. It returns the review's id. A 422
// comes back as a *ReviewError.
func (c *Client) CreateReview(ctx context.Context, repo Repo, number int, headSHA, body, event string, comments []InlineComment) (int64, error) {
	req := &gh.PullRequestReviewRequest{CommitID: gh.String(headSHA), Event: gh.String(event)}
	body = c.scrub(body)
	req.Body = &body
	for _, ic := range comments {
		d := &gh.DraftReviewComment{Path: gh.String(ic.Path), Body: gh.String(c.scrub(ic.Body)), Line: gh.Int(ic.Line)}
		side := ic.Side
		if side == "" {
			side = "RIGHT"
		}
		d.Side = gh.String(side)
		if ic.StartLine > 0 && ic.StartLine != ic.Line {
			d.StartLine = gh.Int(ic.StartLine)
			ss := ic.StartSide
			if ss == "" {
				ss = side
			}
			d.StartSide = gh.String(ss)
		}
		req.Comments = append(req.Comments, d)
	}
	if c.dry != nil {
		c.dry.add(Post{Kind: "review", Target: fmt.Sprintf("%s#%d", repo, number), Body: dryReview(req)})
		return 0, nil
	}
	r, _, err := c.gh.PullRequests.CreateReview(ctx, repo.Owner, repo.Name, number, req)
	if err != nil {
		var er *gh.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity {
			return 0, reviewError(er, comments)
		}
		return 0, fmt.Errorf("create review on %s#%d: %w", repo, number, err)
	}
	return r.GetID(), nil
}

// reviewError reads GitHub's 422. Its errors are strings or objects; some
// name a comment by index ("comments[2]") or by path and line: when one
// comment matches, the error names it.
func reviewError(er *gh.ErrorResponse, comments []InlineComment) *ReviewError {
	e := &ReviewError{Comment: -1, err: er}
	if er.Message != "" {
		e.Messages = append(e.Messages, er.Message)
	}
	for _, x := range er.Errors {
		var parts []string
		for _, p := range []string{x.Resource, x.Field, x.Code, x.Message} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		if len(parts) > 0 {
			e.Messages = append(e.Messages, strings.Join(parts, " "))
		}
	}
	all := strings.Join(e.Messages, "\n")
	if i := strings.Index(all, "comments["); i >= 0 {
		rest := all[i+len("comments["):]
		if j := strings.Index(rest, "]"); j > 0 {
			if n, err := strconv.Atoi(rest[:j]); err == nil && n >= 0 && n < len(comments) {
				e.Comment = n
				return e
			}
		}
	}
	match := -1
	for i, ic := range comments {
		if ic.Path == "" || !strings.Contains(all, ic.Path) {
			continue
		}
		if strings.Contains(all, strconv.Itoa(ic.Line)) || len(comments) == 1 {
			if match >= 0 {
				return e // ambiguous
			}
			match = i
		}
	}
	e.Comment = match
	return e
}

// Review is a review already on the pull request.
type Review struct {
	ID       int64
	Body     string
	CommitID string
	State    string
	Author   User
}

// Reviews lists the pull request's reviews (all pages), oldest first.
func (c *Client) Reviews(ctx context.Context, repo Repo, number int) ([]Review, error) {
	rs, err := allPages(func(opts *gh.ListOptions) ([]*gh.PullRequestReview, *gh.Response, error) {
		return c.gh.PullRequests.ListReviews(ctx, repo.Owner, repo.Name, number, opts)
	})
	if err != nil {
		return nil, fmt.Errorf("list reviews of %s#%d: %w", repo, number, err)
	}
	out := make([]Review, 0, len(rs))
	for _, r := range rs {
		out = append(out, Review{ID: r.GetID(), Body: r.GetBody(), CommitID: r.GetCommitID(), State: r.GetState(), Author: userOf(r.User)})
	}
	return out, nil
}

// dryReview shows a review as text: its event, body and inline comments.
func dryReview(r *gh.PullRequestReviewRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s on %s\n\n%s\n", r.GetEvent(), shortSHA(r.GetCommitID()), r.GetBody())
	for _, d := range r.Comments {
		where := fmt.Sprintf("%s:%d", d.GetPath(), d.GetLine())
		if d.GetStartLine() > 0 {
			where = fmt.Sprintf("%s:%d-%d", d.GetPath(), d.GetStartLine(), d.GetLine())
		}
		fmt.Fprintf(&b, "\n--- %s (%s)\n%s\n", where, d.GetSide(), d.GetBody())
	}
	return b.String()
}

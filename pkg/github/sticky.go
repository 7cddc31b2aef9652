package github

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v62/github"
)

// StatusComment is the one status comment of a pull request: found by its
// marker, created on the first Update, edited in place after that. It is
// not safe for concurrent use; a run owns it.
type StatusComment struct {
	c      *Client
	repo   Repo
	number int
	// ID is the comment's id, 0 until it exists.
	ID int64
	// Previous is the marker the comment carried when it was found: the
	// last run's id, head and conclusion, and the PR's cost so far. Zero
	// when there was no comment.
	Previous Marker
	// Found reports whether an earlier run's comment was found.
	Found bool
	// Body is the last body posted (scrubbed), or the found one.
	Body string
}

// FindStatus looks for the pull request's status comment among its issue
// comments. Only comments written by a bot (the token's app) or by self
// (the token's user, when the token is a person's; empty if unknown) are
// considered, and only when the marker opens the comment, so that nobody can
// plant a marker that resets the cost total.
// With several, the oldest wins: it is the one every run has been editing.
func (c *Client) FindStatus(ctx context.Context, repo Repo, number int, self string) (*StatusComment, error) {
	sc := &StatusComment{c: c, repo: repo, number: number}
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		cs, resp, err := c.gh.Issues.ListComments(ctx, repo.Owner, repo.Name, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments of %s#%d: %w", repo, number, err)
		}
		for _, cm := range cs {
			// The action writes the marker first; one further in is quoted
			// text, which a person may have forged.
			if !strings.HasPrefix(cm.GetBody(), markerPrefix+":status ") {
				continue
			}
			m, ok := ParseMarker(cm.GetBody())
			if !ok {
				continue
			}
			author := userOf(cm.User)
			if !author.IsBot() && (self == "" || author.Login != self) {
				continue
			}
			sc.ID, sc.Previous, sc.Found, sc.Body = cm.GetID(), m, true, cm.GetBody()
			return sc, nil
		}
		if resp.NextPage == 0 {
			return sc, nil
		}
		opts.Page = resp.NextPage
	}
}

// NewStatus returns a status comment handle that will create its comment on
// the first Update, without looking for an existing one (a run that could
// not list comments still reports).
func (c *Client) NewStatus(repo Repo, number int) *StatusComment {
	return &StatusComment{c: c, repo: repo, number: number}
}

// Update renders st and writes it: a new comment the first time, an edit of
// the same comment after. If the comment was deleted in between, a new one
// is created.
func (s *StatusComment) Update(ctx context.Context, st Status) error {
	// Scrub the texts before RenderStatus shortens them as well as after:
	// a secret lying across a cut would otherwise keep a part in the clear.
	st.Reason, st.Details, st.StderrTail = s.c.scrub(st.Reason), s.c.scrub(st.Details), s.c.scrub(st.StderrTail)
	body := s.c.scrub(RenderStatus(st))
	if s.c.dry != nil {
		s.c.dry.add(Post{Kind: "status comment", Target: fmt.Sprintf("%s#%d", s.repo, s.number), Body: body})
		s.Body = body
		return nil
	}
	if s.ID != 0 {
		_, _, err := s.c.gh.Issues.EditComment(ctx, s.repo.Owner, s.repo.Name, s.ID, &gh.IssueComment{Body: &body})
		if err == nil {
			s.Body = body
			return nil
		}
		if StatusCode(err) != http.StatusNotFound {
			return fmt.Errorf("update status comment %d on %s#%d: %w", s.ID, s.repo, s.number, err)
		}
	}
	cm, _, err := s.c.gh.Issues.CreateComment(ctx, s.repo.Owner, s.repo.Name, s.number, &gh.IssueComment{Body: &body})
	if err != nil {
		return fmt.Errorf("create status comment on %s#%d: %w", s.repo, s.number, err)
	}
	s.ID, s.Body = cm.GetID(), body
	return nil
}

package github

import (
	"context"
	"errors"

	"github.com/org/sandbox-action/pkg/review"
)

// PostReview posts p as one review on headSHA. When GitHub refuses it with
// 422, the inline comment it names moves into the review body (or, when it
// names none, every inline comment does) and the review is posted again:
// a finding is never dropped. p is left as what was finally posted, so the
// status comment built from it agrees with the review. It returns the
// review's id; 0 and no error when p has nothing to post (p.Post false:
// p.Status says why).
func (c *Client) PostReview(ctx context.Context, repo Repo, number int, headSHA string, p *review.Posted) (int64, error) {
	if !p.Post {
		return 0, nil
	}
	for {
		comments := make([]InlineComment, len(p.Comments))
		for i, rc := range p.Comments {
			comments[i] = InlineComment{
				Path: rc.Path, Line: rc.Line, Side: string(rc.Side),
				StartLine: rc.StartLine, StartSide: string(rc.StartSide), Body: rc.Body,
			}
		}
		id, err := c.CreateReview(ctx, repo, number, headSHA, p.Body, p.Event, comments)
		var re *ReviewError
		if err == nil || !errors.As(err, &re) || len(comments) == 0 {
			return id, err
		}
		// Each retry has fewer inline comments, so this ends.
		if re.Comment >= 0 {
			if err := p.MoveToBody(re.Comment, ""); err != nil {
				return 0, err
			}
			continue
		}
		p.MoveAllToBody("")
	}
}

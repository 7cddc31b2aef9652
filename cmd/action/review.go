package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/github"
	"github.com/org/sandbox-action/pkg/review"
)

// reviewContext is what a review run knows about the pull request before
// the agent starts.
type reviewContext struct {
	diffText string
	diff     *review.Diff
	earlier  review.Earlier
	decision review.Decision
}

// prepareReview reads the pull request's diff and earlier reviews and
// decides what to review.
func (a *action) prepareReview(ctx context.Context, pr *github.PullRequest, force bool) (*reviewContext, error) {
	reviews, err := a.gh.Reviews(ctx, a.ev.Repo, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	var bodies []string
	for _, r := range reviews {
		bodies = append(bodies, r.Body)
	}
	rc := &reviewContext{earlier: review.ReadEarlier(bodies)}
	rc.decision = review.Decide(rc.earlier, pr.HeadSHA, force)
	if rc.decision.Scope == review.ScopeSkip {
		return rc, nil
	}
	rc.diffText, err = a.gh.Diff(ctx, a.ev.Repo, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("fetch the diff: %w", err)
	}
	rc.diff, err = review.ParseDiff(strings.NewReader(rc.diffText))
	if err != nil {
		return nil, fmt.Errorf("parse the diff: %w", err)
	}
	return rc, nil
}

// reviewPrompt asks the agent for a review of the pull request as
// structured output.
func reviewPrompt(pr *github.PullRequest, rc *reviewContext, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Review pull request #%d %q of this repository (checked out at /workspace).\n", pr.Number, pr.Title)
	fmt.Fprintf(&b, "Base %s (%s), head %s (%s). Scope: %s.\n", pr.BaseRef, pr.BaseSHA, pr.HeadRef, pr.HeadSHA, rc.decision.Reason)
	fmt.Fprintf(&b, "The pull request's diff is %s/%s, its metadata %s/%s and the review schema %s/%s (read-only).\n", ContextDir, contextDiff, ContextDir, contextPR, ContextDir, contextSchema)
	b.WriteString("Report your findings as JSON matching the review schema: a summary, a verdict, and findings anchored to lines of the changed files (path, line on the side of the diff).\n")
	if paths := rc.diff.Paths(); len(paths) > 0 {
		fmt.Fprintf(&b, "Changed files: %s\n", strings.Join(paths, ", "))
	}
	if extra != "" {
		b.WriteString("\n" + extra + "\n")
	}
	return b.String()
}

// postReview builds the review from the agent's result and posts it as one
// review; a comment GitHub refuses (422) is moved into the body and the
// review posted again. It returns the text for the status comment.
func (a *action) postReview(ctx context.Context, pr *github.PullRequest, rc *reviewContext, res agent.Result) string {
	p := review.Build(review.Input{
		Result:   res,
		Diff:     rc.diff,
		Head:     pr.HeadSHA,
		Earlier:  rc.earlier,
		Decision: rc.decision,
		Options:  review.Options{Secrets: a.in.secrets()},
	})
	if p.Review != nil {
		// The output is the validated review, scrubbed, rather than the
		// agent's raw answer.
		if b, err := json.Marshal(p.Review); err == nil {
			a.report.outputs["structured-output"] = string(b)
		}
	}
	if !p.Post {
		a.gha.Warningf("%s", oneLine(p.Status))
		return p.Status
	}
	if a.in.dryRun {
		a.report.wouldPost("review ("+p.Event+")", p.Text(rc.diff))
		return p.Status
	}
	for attempt := 0; ; attempt++ {
		comments := make([]github.InlineComment, len(p.Comments))
		for i, c := range p.Comments {
			comments[i] = github.InlineComment{Path: c.Path, Line: c.Line, StartLine: c.StartLine,
				Side: string(c.Side), StartSide: string(c.StartSide), Body: c.Body}
		}
		id, err := a.gh.CreateReview(ctx, a.ev.Repo, pr.Number, pr.HeadSHA, p.Body, p.Event, comments)
		var re *github.ReviewError
		switch {
		case err == nil:
			a.report.posted = true
			a.report.outputs["review-id"] = fmt.Sprint(id)
			return p.Status
		case errors.As(err, &re) && len(p.Comments) > 0 && attempt < 3:
			a.gha.Warningf("GitHub refused an inline comment (%s); moving it into the review body", strings.Join(re.Messages, "; "))
			if re.Comment >= 0 && re.Comment < len(p.Comments) {
				if err := p.MoveToBody(re.Comment, review.RejectedReason); err != nil {
					p.MoveAllToBody(review.RejectedReason)
				}
			} else {
				p.MoveAllToBody(review.RejectedReason)
			}
		default:
			a.gha.Errorf("could not post the review: %v", err)
			a.report.fail(github.ConclusionFailure, "the review could not be posted: "+err.Error())
			a.report.postFailed = true
			return p.Status + "\n\nThe review could not be posted: " + err.Error()
		}
	}
}

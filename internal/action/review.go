package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/config"
	"github.com/org/sandbox-action/pkg/github"
	"github.com/org/sandbox-action/pkg/review"
)

// reviewRun is a prepared review of a pull request: package review's plan
// (what to review, and how to turn the answer into the review to post) and
// the repository's review settings, taken from the base branch's config.
// `sandbox review` goes through the same Prepare → Request → Build.
type reviewRun struct {
	plan *review.Plan
	opts review.Options
	// cfg is the base branch's config (nil without one), read once for the
	// review settings and the sandbox settings alike.
	cfg *config.File
	// req is the agent's request: the review prompt and, for agents with a
	// schema flag, the schema.
	req agent.Request
	// files are the context directory's files (pr.json, the diff to review,
	// the schema).
	files map[string][]byte
}

// reviewSettings maps the config's review: block to package review's
// options and diff budget; unset keys keep package review's defaults.
func reviewSettings(cfg *config.File, secrets []string) (review.Options, review.Budget) {
	o := review.Options{Secrets: secrets}
	var b review.Budget
	if cfg == nil {
		return o, b
	}
	r := cfg.Review
	if r.AllowApprove != nil {
		o.AllowApprove = *r.AllowApprove
	}
	if r.RequestChanges != nil {
		o.RequestChanges = *r.RequestChanges
	}
	if r.MaxFileDiffBytes != nil {
		b.FileBytes = *r.MaxFileDiffBytes
	}
	if r.MaxDiffBytes != nil {
		b.TotalBytes = *r.MaxDiffBytes
	}
	return o, b
}

// prepareReview reads the base branch's config, the pull request's earlier
// reviews and diffs, and prepares the review. A plan whose Decision is
// review.ScopeSkip means the head was reviewed already.
func (a *action) prepareReview(ctx context.Context, pr *github.PullRequest, force bool) (*reviewRun, error) {
	cfg, err := a.config(ctx, a.workspace())
	if err != nil {
		return nil, err
	}
	rr := &reviewRun{cfg: cfg}
	var budget review.Budget
	rr.opts, budget = reviewSettings(cfg, a.in.secrets())

	reviews, err := a.gh.Reviews(ctx, a.ev.Repo, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	prep := review.Prep{Head: pr.HeadSHA, Force: force, Budget: budget}
	for _, r := range reviews {
		// Anyone, the pull request's author included, may leave a review
		// with a marker in it: only the action's (a bot's, as for the
		// status comment) say what was reviewed.
		if r.Author.IsBot() {
			prep.Earlier = append(prep.Earlier, r.Body)
		}
	}
	diff, err := a.gh.Diff(ctx, a.ev.Repo, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("fetch the diff: %w", err)
	}
	prep.Diff = []byte(diff)
	// Prepare decides again from the same markers; asking first spares the
	// compare request when the run is not incremental.
	if d := review.Decide(review.ReadEarlier(prep.Earlier), pr.HeadSHA, force); d.Scope == review.ScopeSince {
		prep.Since = a.diffSince(ctx, d.Since, pr.HeadSHA)
	}
	rr.plan, err = review.Prepare(prep)
	if err != nil {
		return nil, err
	}
	if rr.plan.Decision.Scope == review.ScopeSkip {
		return rr, nil
	}
	sel := rr.plan.Selection
	fmt.Fprintf(a.log, "review (%s): %s; %d files to review, %d left out\n",
		review.PromptVersion, rr.plan.Decision.Reason, len(sel.Diff.Files), len(sel.Skipped))

	// The repository's prompt (base branch) extends the review template;
	// the prompt input adds to both.
	extra := a.in.prompt
	if cfg != nil {
		extra = strings.TrimSpace(cfg.Agent.Prompt + "\n\n" + a.in.prompt)
	}
	if rr.req, err = rr.plan.Request(a.in.agent, ContextDir, extra, rr.opts); err != nil {
		return nil, err
	}
	// The title, body and author are the pull request author's words: they
	// reach the agent as pr.json, never in the prompt.
	rr.files, err = rr.plan.ContextFiles(review.PR{
		Repo: a.ev.Repo.String(), Number: pr.Number, Title: pr.Title, Body: pr.Body, Author: pr.Author.Login,
		URL: pr.HTMLURL, Base: pr.BaseRef, BaseSHA: pr.BaseSHA, Head: pr.HeadRef, HeadSHA: pr.HeadSHA,
	}, rr.opts)
	if err != nil {
		return nil, err
	}
	return rr, nil
}

// diffSince is the diff from the last reviewed head to head, through the
// compare API: the runner's checkout is usually one commit deep, so the
// old head is rarely in the workspace, while GitHub keeps it. nil when it
// cannot be had, which makes the review a full one: after a force push the
// old head may be gone. After a rebase GitHub compares from the two heads'
// merge base, which names more files than the push changed: more is
// reviewed, never less.
func (a *action) diffSince(ctx context.Context, last, head string) []byte {
	d, err := a.gh.CompareDiff(ctx, a.ev.Repo, last, head)
	switch {
	case errors.Is(err, github.ErrNotFound):
		fmt.Fprintf(a.log, "the last reviewed head %s is gone (a force push?): reviewing the whole pull request\n", shortRef(last))
		return nil
	case err != nil:
		a.gha.Warningf("could not get the changes since the last review, reviewing the whole pull request: %v", err)
		return nil
	}
	return []byte(d)
}

// postReview builds the review from the agent's result and posts it as one
// review (github.Client.PostReview moves what GitHub refuses with 422 into
// the body). It returns the text for the status comment.
func (a *action) postReview(ctx context.Context, pr *github.PullRequest, rr *reviewRun, res agent.Result) string {
	p := rr.plan.Build(res, rr.opts)
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
		a.report.wouldPost("review ("+p.Event+")", p.Text(rr.plan.Diff))
		return p.Status
	}
	inline := p.Counts.Inline
	id, err := a.gh.PostReview(ctx, a.ev.Repo, pr.Number, pr.HeadSHA, p)
	switch moved := inline - p.Counts.Inline; {
	case moved == 1:
		a.gha.Warningf("GitHub refused an inline comment; moving it into the review body")
	case moved > 1:
		a.gha.Warningf("GitHub refused %d inline comments; moving them into the review body", moved)
	}
	if err != nil {
		a.gha.Errorf("could not post the review: %v", err)
		a.report.fail(github.ConclusionFailure, "the review could not be posted: "+err.Error())
		a.report.postFailed = true
		return p.Status + "\n\nThe review could not be posted: " + err.Error()
	}
	a.report.posted = true
	a.report.outputs["review-id"] = fmt.Sprint(id)
	return p.Status
}

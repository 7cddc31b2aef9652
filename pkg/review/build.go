package review

import (
	"errors"
	"fmt"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/redact"
)

// Options are a repository's review settings.
type Options struct {
	// AllowApprove lets the verdict be "approve" (the schema offers it and
	// the review is posted as APPROVE). Off by default: the bot does not
	// approve.
	AllowApprove bool `json:"allow_approve"`
	// RequestChanges posts a request_changes verdict as a REQUEST_CHANGES
	// review. Off, such a review is posted as COMMENT and says the verdict.
	RequestChanges bool `json:"request_changes"`
	// Secrets are values scrubbed from everything posted.
	Secrets []string `json:"-"`
}

// Outcome says how a review run ended for the status comment.
type Outcome string

// Outcomes.
const (
	// OutcomeReviewed: a valid review to post.
	OutcomeReviewed Outcome = "reviewed"
	// OutcomeNoOutput: the agent produced no structured output.
	OutcomeNoOutput Outcome = "no_structured_output"
	// OutcomeInvalid: the agent's output is not a valid review.
	OutcomeInvalid Outcome = "invalid_output"
)

// Review events, as GitHub names them.
const (
	EventComment        = "COMMENT"
	EventRequestChanges = "REQUEST_CHANGES"
	EventApprove        = "APPROVE"
)

// Input is everything a review is built from.
type Input struct {
	// Result is the agent's run, read from its transcript.
	Result agent.Result
	// Diff is the pull request's whole diff: comments anchor to it.
	Diff *Diff
	// Head is the pull request's head commit.
	Head string
	// Earlier are the markers of the pull request's earlier reviews.
	Earlier Earlier
	// Decision is the run's scope (zero: a full review).
	Decision Decision
	// Skipped are the files the budget left out of the review.
	Skipped []Skipped
	Options Options
}

// Counts are the numbers the review body and the status comment both state.
type Counts struct {
	// Findings posted in this review (inline and in the body).
	Findings int `json:"findings"`
	Inline   int `json:"inline"`
	InBody   int `json:"in_body"`
	// Repeated findings were posted by an earlier review on an unchanged
	// line, or twice in this one, and are not posted again.
	Repeated int `json:"repeated"`
	// Skipped files were not reviewed (budget, lockfiles, generated,
	// binary).
	Skipped int `json:"skipped_files"`
}

// Posted is the review as it is posted: one GitHub review (Event, Body,
// Comments) and the status text. When Post is false there is no review to
// post (no or invalid output) and Status says why.
type Posted struct {
	Outcome  Outcome   `json:"outcome"`
	Post     bool      `json:"post"`
	Event    string    `json:"event,omitempty"`
	Verdict  Verdict   `json:"verdict,omitempty"`
	Body     string    `json:"body,omitempty"`
	Comments []Comment `json:"comments"`
	// Status is the Markdown for the status comment; it agrees with Body on
	// the verdict and the counts.
	Status   string    `json:"status"`
	Counts   Counts    `json:"counts"`
	Marker   Marker    `json:"marker"`
	Problems []Problem `json:"problems,omitempty"`
	Source   Source    `json:"source,omitempty"`
	// Review is the validated review as the agent gave it (scrubbed), for
	// the action's structured-output output; nil unless Outcome is
	// OutcomeReviewed.
	Review *Review `json:"review,omitempty"`
	// Findings are the posted findings in the agent's order, with their
	// place; Repeated the ones not posted again.
	Findings []Anchored `json:"findings"`
	Repeated []Anchored `json:"repeated,omitempty"`

	summary   string
	skipped   []Skipped
	decision  Decision
	finalText string
	scrub     *redact.Scrubber
}

// Build turns an agent's run into the review to post. It never fails: output
// that is missing or invalid gives a Posted with Post false and a status that
// says so and shows the agent's final text.
func Build(in Input) *Posted {
	s := redact.New(in.Options.Secrets...)
	p := &Posted{
		Comments:  []Comment{},
		Findings:  []Anchored{},
		skipped:   in.Skipped,
		decision:  in.Decision,
		finalText: in.Result.Text,
		scrub:     s,
	}
	raw, source, ok := Output(in.Result)
	if !ok {
		p.Outcome = OutcomeNoOutput
		p.render()
		return p
	}
	p.Source = source
	r, err := Validate(raw, in.Options.AllowApprove)
	if err != nil {
		p.Outcome = OutcomeInvalid
		var inv *InvalidError
		if errors.As(err, &inv) {
			p.Problems = inv.Problems
		} else {
			p.Problems = []Problem{{"(output)", err.Error()}}
		}
		p.render()
		return p
	}
	p.Outcome, p.Post, p.Verdict = OutcomeReviewed, true, r.Verdict
	p.Event = event(r.Verdict, in.Options)
	r.Summary = s.Scrub(r.Summary)
	p.summary = r.Summary
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Body = s.Scrub(f.Body)
		if f.Suggestion != nil {
			sug := s.Scrub(*f.Suggestion)
			f.Suggestion = &sug
		}
	}
	p.Review = &r
	d := in.Diff
	if d == nil {
		d = newDiff(nil)
	}
	posted := in.Earlier.Posted()
	var fps []string
	for _, a := range Anchor(d, r.Findings) {
		fp := Fingerprint(a.Finding.Path, a.Finding.Body, a.LineText)
		if posted[fp] {
			p.Repeated = append(p.Repeated, a)
			continue
		}
		posted[fp] = true
		fps = append(fps, fp)
		p.Findings = append(p.Findings, a)
	}
	p.Marker = Marker{SHA: in.Head, Fingerprints: fps}
	p.render()
	return p
}

func event(v Verdict, o Options) string {
	switch {
	case v == VerdictRequestChanges && o.RequestChanges:
		return EventRequestChanges
	case v == VerdictApprove && o.AllowApprove:
		return EventApprove
	}
	return EventComment
}

// RejectedReason is the reason given for a comment GitHub refused.
const RejectedReason = "GitHub refused it as an inline comment"

// MoveToBody moves inline comment i (an index into Comments) into the
// review body, for a retry after GitHub refused the review with 422 because
// of that comment. Body, Comments, Counts and Status are rendered again, so
// they keep agreeing.
func (p *Posted) MoveToBody(i int, reason string) error {
	if i < 0 || i >= len(p.Comments) {
		return fmt.Errorf("move comment %d to the body: the review has %d inline comments", i, len(p.Comments))
	}
	if reason == "" {
		reason = RejectedReason
	}
	n := -1
	for k := range p.Findings {
		if p.Findings[k].Inline {
			n++
			if n == i {
				p.Findings[k].Inline, p.Findings[k].Reason = false, reason
				break
			}
		}
	}
	p.render()
	return nil
}

// MoveAllToBody moves every inline comment into the body: the last retry
// when GitHub refuses a review without saying which comment it objects to.
func (p *Posted) MoveAllToBody(reason string) {
	if reason == "" {
		reason = RejectedReason
	}
	for k := range p.Findings {
		if p.Findings[k].Inline {
			p.Findings[k].Inline, p.Findings[k].Reason = false, reason
		}
	}
	p.render()
}

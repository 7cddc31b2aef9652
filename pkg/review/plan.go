package review

import (
	"bytes"
	"fmt"

	"github.com/org/sandbox-action/pkg/agent"
)

// Prep is what a review run starts from, before any agent runs.
type Prep struct {
	// Diff is the pull request's whole diff (base...head).
	Diff []byte
	// Since is the diff from the last reviewed head to this one; nil when
	// there is none or it cannot be had (the old head is gone after a
	// force push), which makes the review a full one.
	Since []byte
	// Head is the pull request's head commit.
	Head string
	// Earlier are the bodies of the pull request's earlier reviews, oldest
	// first; those without this project's marker are ignored.
	Earlier []string
	// Force reviews the head even if it was reviewed already (a command).
	Force  bool
	Budget Budget
}

// Plan is a prepared review run: what to review, and everything needed to
// turn the agent's answer into the review to post. The action and `sandbox
// review` both go Prepare → (run the agent, or read its transcript) →
// Plan.Build, so they post the same review for the same run.
type Plan struct {
	Head     string
	Earlier  Earlier
	Decision Decision
	// Diff is the pull request's whole diff: comments anchor to it.
	Diff *Diff
	// Selection is what the agent reviews: the diff in scope, within budget.
	Selection Selection
}

// Prepare parses the diffs and decides the run's scope. A Decision of
// ScopeSkip means the head was reviewed already: the caller runs nothing.
func Prepare(p Prep) (*Plan, error) {
	d, err := ParseDiff(bytes.NewReader(p.Diff))
	if err != nil {
		return nil, fmt.Errorf("pull request diff: %w", err)
	}
	pl := &Plan{Head: p.Head, Earlier: ReadEarlier(p.Earlier), Diff: d}
	pl.Decision = Decide(pl.Earlier, p.Head, p.Force)
	scope := d
	if pl.Decision.Scope == ScopeSince {
		var since *Diff
		if p.Since != nil {
			if since, err = ParseDiff(bytes.NewReader(p.Since)); err != nil {
				return nil, fmt.Errorf("diff since %s: %w", short(pl.Decision.Since), err)
			}
		} else {
			pl.Decision = Decision{Scope: ScopeFull, Reason: "the last reviewed head " + short(pl.Decision.Since) + " is not in the history any more"}
		}
		scope = Restrict(d, since)
	}
	pl.Selection = p.Budget.Select(scope)
	return pl, nil
}

// Request is the agent's headless request for this run (see Request).
func (pl *Plan) Request(agentName, contextDir, extra string, o Options) (agent.Request, error) {
	return Request(PromptInput{Agent: agentName, ContextDir: contextDir, Decision: pl.Decision,
		Skipped: pl.Selection.Skipped, Extra: extra, Options: o})
}

// ContextFiles are the files of the agent's context directory for this run.
func (pl *Plan) ContextFiles(pr PR, o Options) (map[string][]byte, error) {
	return ContextFiles(pr, pl.Selection, o)
}

// Build turns the agent's run into the review to post (see Build).
func (pl *Plan) Build(res agent.Result, o Options) *Posted {
	return Build(Input{Result: res, Diff: pl.Diff, Head: pl.Head, Earlier: pl.Earlier,
		Decision: pl.Decision, Skipped: pl.Selection.Skipped, Options: o})
}

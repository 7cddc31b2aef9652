package action

import (
	"fmt"
	"strings"
	"time"

	"github.com/org/sandbox-action/pkg/github"
	"github.com/org/sandbox-action/pkg/outcome"
)

// report is what the run tells the workflow: its conclusion, its outputs
// and the step summary.
type report struct {
	conclusion github.Conclusion
	reason     string
	outputs    map[string]string

	// posted: something reached the pull request. postFailed: a write
	// that mattered did not. readOnly: GitHub refused the token's writes.
	posted, postFailed, readOnly bool
	// finalFailed: the status comment could not be finalised.
	finalFailed bool
	// neutral ends the step green although nothing was done: a fork's
	// run without secrets, explained in the log.
	neutral bool
	dryRun  bool
	would   []posting

	settings []string
	notices  []string
	outcome  *outcome.Outcome
	// finalWrite is how long the final status comment took to write.
	finalWrite time.Duration
	// sandboxStarted is from the action's start to the sandbox's start;
	// agentExited is when the agent exited, and afterExit from then until
	// the final status comment was written: the action's own overhead
	// around the agent.
	sandboxStarted time.Duration
	agentExited    time.Time
	afterExit      time.Duration
}

// posting is what a dry run would have posted.
type posting struct{ what, body string }

func (r *report) wouldPost(what, body string) {
	r.dryRun = true
	r.would = append(r.would, posting{what, body})
}

func (r *report) fail(c github.Conclusion, reason string) {
	r.conclusion, r.reason = c, reason
}

func (r *report) skip(reason string) {
	if r.conclusion == "" {
		r.conclusion, r.reason = github.ConclusionSkipped, reason
	}
}

// finalise ends the status comment after a panic.
func (r *report) finalise(a *action) {
	if a.status != nil {
		a.status.final(github.Status{Conclusion: github.ConclusionFailure, Reason: r.reason})
	}
}

// conclusionOf maps how the sandbox run ended to the action's conclusion.
func conclusionOf(k outcome.Kind) github.Conclusion {
	switch k {
	case outcome.Success:
		return github.ConclusionSuccess
	case outcome.TimedOut:
		return github.ConclusionTimedOut
	case outcome.Cancelled:
		return github.ConclusionCancelled
	}
	return github.ConclusionFailure
}

// summary renders the step summary: the outcome, the figures, the
// settings and where each came from, the phase timings, egress, and in a
// dry run what would have been posted.
func (r *report) summary(a *action) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Sandbox: %s\n\n", r.conclusion)
	if r.reason != "" {
		fmt.Fprintf(&b, "%s\n\n", r.reason)
	}
	for _, n := range r.notices {
		fmt.Fprintf(&b, "> %s\n\n", n)
	}
	if o := r.outcome; o != nil {
		b.WriteString("| | |\n|---|---|\n")
		fmt.Fprintf(&b, "| outcome | %s |\n", o.Kind)
		if o.Agent != nil {
			fmt.Fprintf(&b, "| cost | $%.4f |\n| turns | %d |\n| session | %s |\n", o.CostUSD(), o.Turns(), o.SessionID())
		}
		fmt.Fprintf(&b, "| exit code | %d |\n\n", o.Engine.ExitCode)
		t := o.Timings()
		b.WriteString("| phase | time |\n|---|---|\n")
		for _, p := range []struct {
			name string
			d    time.Duration
		}{{"prepare", t.Prepare}, {"proxy ready", t.Proxy}, {"create", t.Create}, {"start", t.Start},
			{"first output", t.FirstOutput}, {"exit", t.Exit}, {"cleanup", t.Cleanup}, {"total", t.Total},
			{"final comment", r.finalWrite},
			{"action start → sandbox started", r.sandboxStarted}, {"agent exit → final comment written", r.afterExit}} {
			if p.d > 0 {
				fmt.Fprintf(&b, "| %s | %s |\n", p.name, p.d.Round(time.Millisecond))
			}
		}
		b.WriteString("\n")
		if o.Egress != nil {
			fmt.Fprintf(&b, "**Egress:** %s\n\n", o.Egress.Summary())
			// What was refused, and the config line that would allow it:
			// suggested, never applied.
			if d := o.Egress.DenyReport(); !d.Empty() {
				b.WriteString(d.Markdown() + "\n\n")
			}
		}
	}
	if len(r.settings) > 0 {
		b.WriteString("<details><summary>Settings</summary>\n\n")
		for _, s := range r.settings {
			fmt.Fprintf(&b, "- `%s`\n", s)
		}
		b.WriteString("\n</details>\n\n")
	}
	if len(r.would) > 0 {
		b.WriteString("#### Dry run: what would have been posted\n\n")
		for _, p := range r.would {
			fmt.Fprintf(&b, "<details><summary>%s</summary>\n\n%s\n\n</details>\n\n", p.what, p.body)
		}
	}
	return b.String()
}

package action

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/org/sandbox-action/pkg/github"
)

// progressBudget bounds writing a queued or running state, retries
// included.
const progressBudget = 10 * time.Second

// statusLine is the run's status comment: queued, running, then exactly
// one final state, whichever path gets there first (the run's end, a
// cancel, a panic). A dry run writes each state to the step summary
// instead.
type statusLine struct {
	a  *action
	sc *github.StatusComment // nil in a dry run
	// base carries what every state shows: job, agent, head, run link,
	// the PR's cost so far.
	base github.Status

	mu   sync.Mutex
	done bool
}

// openStatus finds the pull request's status comment, or prepares a new
// one when it cannot be listed (a run that cannot read comments still
// reports).
func (a *action) openStatus(ctx context.Context, pr *github.PullRequest, job string) *statusLine {
	s := &statusLine{a: a, base: github.Status{
		Job:     job,
		Agent:   a.in.agent,
		Model:   a.in.model,
		HeadSHA: pr.HeadSHA,
		RunID:   github.RunID(a.getenv),
		RunURL:  github.RunURL(a.getenv),
	}}
	a.status = s
	if a.in.dryRun {
		return s
	}
	sc, err := a.gh.FindStatus(ctx, a.ev.Repo, pr.Number, "")
	if err != nil {
		a.gha.Warningf("could not look for the status comment of #%d (%v); a new one will be written", pr.Number, err)
		sc = a.gh.NewStatus(a.ev.Repo, pr.Number)
	}
	s.sc = sc
	s.base.PRCostUSD = sc.Previous.PRCostUSD
	return s
}

// previousCost is the pull request's cost before this run.
func (s *statusLine) previousCost() float64 {
	if s.sc == nil {
		return 0
	}
	return s.sc.Previous.PRCostUSD
}

// update writes a queued or running state. A failure is logged: the
// final state is what must get through.
func (s *statusLine) update(ctx context.Context, phase github.Phase) {
	st := s.base
	st.Phase = phase
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	// A state on the way must not eat the time the final one needs.
	ctx, cancel := context.WithTimeout(ctx, progressBudget)
	defer cancel()
	if err := s.write(ctx, st); err != nil {
		s.a.gha.Warningf("could not update the status comment (%s): %v", phase, err)
	}
}

// final writes the final state once; later calls do nothing. It has its
// own deadline so that it gets through after the run's context ended.
func (s *statusLine) final(st github.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	full := s.base
	full.Phase = github.PhaseDone
	full.Conclusion = st.Conclusion
	full.Reason = st.Reason
	full.Details = st.Details
	full.StderrTail = st.StderrTail
	full.Egress = st.Egress
	full.CostUSD = st.CostUSD
	full.Turns = st.Turns
	full.Duration = st.Duration
	full.PRCostUSD = s.base.PRCostUSD + st.CostUSD
	if st.Model != "" {
		full.Model = st.Model
	}
	ctx, cancel := context.WithTimeout(context.Background(), finalBudget)
	defer cancel()
	start := time.Now()
	err := s.write(ctx, full)
	s.a.report.finalWrite = time.Since(start)
	if !s.a.report.agentExited.IsZero() {
		s.a.report.afterExit = time.Since(s.a.report.agentExited)
	}
	if err != nil {
		s.a.gha.Errorf("could not write the final status comment: %v", err)
		s.a.report.postFailed = true
		s.a.report.finalFailed = true
		if github.IsReadOnly(err) {
			s.a.report.readOnly = true
		}
		return
	}
}

func (s *statusLine) write(ctx context.Context, st github.Status) error {
	if s.sc == nil {
		s.a.report.wouldPost(fmt.Sprintf("status comment (%s)", label(st)), github.RenderStatus(st))
		return nil
	}
	if err := s.sc.Update(ctx, st); err != nil {
		return err
	}
	s.a.report.posted = true
	s.a.report.outputs["comment-id"] = fmt.Sprint(s.sc.ID)
	return nil
}

func label(st github.Status) string {
	if st.Phase == github.PhaseDone {
		return string(st.Conclusion)
	}
	return string(st.Phase)
}

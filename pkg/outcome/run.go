package outcome

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

// Runner runs a spec; *engine.Engine is one.
type Runner interface {
	Run(ctx context.Context, r spec.Run, o engine.RunOptions) (engine.Result, error)
}

// Options are a front door's choices for one run.
type Options struct {
	// Stdout receives a plain command's standard output. With an agent the
	// output is its event stream, parsed and given to OnEvent instead.
	Stdout io.Writer
	// Stderr receives the command's standard error, live.
	Stderr io.Writer
	// OnEvent receives each agent event, from one goroutine at a time.
	OnEvent func(agent.Event)
	// WaitForLock and Pull are passed to the engine.
	WaitForLock, Pull bool
}

// Run runs p and sorts how it ended. It never returns without an Outcome:
// an engine error is one of its kinds.
func Run(ctx context.Context, r Runner, p plan.Plan, o Options) Outcome {
	st := newStreams(p.Agent, o)
	begin := time.Now()
	res, err := r.Run(ctx, p.Run, engine.RunOptions{
		Stdout: st.stdout(), Stderr: st.stderr(), WaitForLock: o.WaitForLock, Pull: o.Pull,
	})
	for _, dir := range p.Placeholders {
		removePlaceholder(dir)
	}
	out := Outcome{Engine: res, Err: err, Wall: time.Since(begin), Limit: p.Run.Sandbox.Timeout}
	out.Agent = st.finish(res.ExitCode)
	out.StderrTail = string(st.tail.Bytes())
	if len(res.Egress) > 0 {
		var s egress.Stats
		if json.Unmarshal(res.Egress, &s) == nil {
			out.Egress = &s
		}
	}
	classify(ctx, &out)
	if out.Agent != nil {
		out.Agent.Outcome = string(out.Kind)
	}
	return out
}

// classify sets Kind, ExitCode and Reason from what the engine and the
// agent said. The order matters: a cancel explains whatever error it
// caused; a start failure has its own status; a timeout, a cancel and an
// OOM kill explain the exit code.
func classify(ctx context.Context, o *Outcome) {
	res, err := o.Engine, o.Err
	var se *engine.StartError
	what := "the command"
	if o.Agent != nil {
		what = "the agent"
	}
	switch {
	case ctx.Err() != nil:
		o.Kind, o.ExitCode, o.Cause = Cancelled, ExitCancelled, context.Cause(ctx)
		o.Reason = "interrupted; the sandbox was stopped and removed"
		if err != nil {
			o.Reason = fmt.Sprintf("interrupted: %v", err)
		}
	case errors.As(err, &se):
		o.Kind, o.ExitCode, o.Reason = NotStarted, se.ExitCode, err.Error()
	case err != nil:
		o.Kind, o.ExitCode, o.Reason = NotStarted, ExitSandboxError, err.Error()
		if res.Timings.Start > 0 {
			o.Kind = Failed // it ran; the sandbox failed around it
		}
	case res.TimedOut:
		o.Kind, o.ExitCode = TimedOut, ExitTimeout
		if o.Limit > 0 && res.Timings.Exit > o.Limit {
			o.Overrun = res.Timings.Exit - o.Limit
		}
		o.Reason = fmt.Sprintf("timed out after %s (stopping it took %s more); the sandbox was stopped and removed",
			features.FormatTimeout(o.Limit), o.Overrun.Round(100*time.Millisecond))
	case res.Cancelled:
		o.Kind, o.ExitCode = Cancelled, ExitCancelled
		o.Reason = "interrupted; the sandbox was stopped and removed"
	case res.OOMKilled:
		o.Kind, o.ExitCode = OutOfMemory, res.ExitCode
		o.Reason = what + " was killed for running out of memory; raise the memory limit (--memory, or limits.memory in the config)"
	case o.Agent != nil && res.ExitCode == 0 && !o.Agent.Success:
		o.Kind, o.ExitCode = Failed, ExitAgentFailed
		o.Reason = fmt.Sprintf("the agent exited 0 but its result says it failed: %s", o.Agent.ErrorMessage)
	case res.ExitCode != 0:
		o.Kind, o.ExitCode = Failed, res.ExitCode
		o.Reason = fmt.Sprintf("%s exited with status %d", what, res.ExitCode)
		if o.Agent != nil && o.Agent.ErrorMessage != "" {
			o.Reason += ": " + o.Agent.ErrorMessage
		}
	default:
		o.Kind, o.ExitCode = Success, 0
	}
}

// streams route the sandbox's output: straight through for a plain
// command; through the agent's parser for an agent run. Both keep the end
// of stderr.
type streams struct {
	o      Options
	tail   *agent.Tail
	parser *agent.Parser
	pw     *io.PipeWriter
	done   chan struct{}
	mu     sync.Mutex // serialises OnEvent calls
}

func newStreams(ad agent.Adapter, o Options) *streams {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	s := &streams{o: o, tail: agent.NewTail(agent.TailBytes)}
	if ad == nil {
		return s
	}
	s.parser = ad.NewParser(func(e agent.Event) {
		if o.OnEvent == nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		o.OnEvent(e)
	})
	pr, pw := io.Pipe()
	s.pw = pw
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		// A parse error (unreadable stream) ends up in the result as a
		// read error; keep draining so the sandbox never blocks on us.
		_ = s.parser.Parse(pr)
		_, _ = io.Copy(io.Discard, pr)
	}()
	return s
}

func (s *streams) stdout() io.Writer {
	if s.parser == nil {
		return s.o.Stdout
	}
	return s.pw
}

func (s *streams) stderr() io.Writer { return io.MultiWriter(s.o.Stderr, s.tail) }

// finish closes the agent's stream and returns its result; nil for a plain
// command.
func (s *streams) finish(exitCode int) *agent.Result {
	if s.parser == nil {
		return nil
	}
	s.pw.Close()
	<-s.done
	r := s.parser.Finish(exitCode, s.tail.Bytes())
	return &r
}

// removePlaceholder removes a mask's mount point if it is still an empty
// directory; anything else there is someone's and stays.
func removePlaceholder(dir string) {
	if fi, err := os.Lstat(dir); err == nil && fi.IsDir() {
		_ = os.Remove(dir)
	}
}

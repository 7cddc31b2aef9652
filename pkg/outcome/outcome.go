// Package outcome runs a planned sandbox run and sorts how it ended into one
// of a few kinds that every front door reads the same way: the sandbox CLI
// turns it into an exit status and a message, the GitHub Action into a
// status comment and step outputs.
package outcome

import (
	"encoding/json"
	"time"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/engine"
)

// Kind is how a run ended.
type Kind string

const (
	// Success: the command exited 0 and, for an agent, its own result
	// says it succeeded.
	Success Kind = "success"
	// Failed: the command exited non-zero, or the agent reported failure
	// in its own stream, or the sandbox failed after it had started.
	Failed Kind = "failed"
	// TimedOut: the run hit its wall-clock limit and was stopped.
	TimedOut Kind = "timed_out"
	// Cancelled: the caller (a signal, a cancelled workflow) stopped it.
	Cancelled Kind = "cancelled"
	// OutOfMemory: the kernel killed the command for exceeding its memory
	// limit.
	OutOfMemory Kind = "out_of_memory"
	// NotStarted: the sandbox could not run the command (bad settings, no
	// daemon, missing image, command not in the image).
	NotStarted Kind = "not_started"
)

// Exit statuses for ends that are not the command's own, chosen to match
// docker run and coreutils timeout.
const (
	ExitSandboxError = 125 // the sandbox could not be run (docker run's 125)
	ExitTimeout      = 124 // the run hit its timeout (timeout(1)'s 124)
	ExitCancelled    = 130 // interrupted (128 + SIGINT)
	ExitAgentFailed  = 1   // the agent exited 0 but its own result says it failed
)

// Outcome is how one run ended, with everything a front door reports.
type Outcome struct {
	Kind Kind
	// ExitCode is the status a command-line front door exits with: the
	// command's own, or one of the Exit* codes, 127 (not in the image) or
	// 137 (killed).
	ExitCode int
	// Reason says in one sentence why the run did not succeed; empty on
	// success.
	Reason string
	// Err is the engine's error, if any.
	Err error
	// Cause is why the context ended, for a cancelled run (a signal, say).
	Cause error
	// Limit is the run's timeout and Overrun how much longer than it the
	// stop took (TimedOut only).
	Limit, Overrun time.Duration
	// Engine is the engine's account of the run: exit code, timings,
	// egress counts.
	Engine engine.Result
	// Agent is the agent's result read from its stream; nil for a plain
	// command.
	Agent *agent.Result
	// Egress are the egress proxy's counts (private mode); nil otherwise.
	Egress *egress.Stats
	// StderrTail is the end of the command's standard error.
	StderrTail string
	// Wall is the run's duration as the caller saw it.
	Wall time.Duration
}

// OK reports whether the run succeeded.
func (o Outcome) OK() bool { return o.Kind == Success }

// Timings are the run's phase timings.
func (o Outcome) Timings() engine.Timings { return o.Engine.Timings }

// CostUSD is the agent's own price of the run; zero without one.
func (o Outcome) CostUSD() float64 {
	if o.Agent == nil {
		return 0
	}
	// The cost is what the agent's output says, which the agent can
	// write to: a negative one would lower a pull request's running total
	// (and with it max-pr-cost-usd's guard) in the action.
	return max(o.Agent.CostUSD, 0)
}

// Turns is the number of agent turns.
func (o Outcome) Turns() int {
	if o.Agent == nil {
		return 0
	}
	return o.Agent.Turns
}

// SessionID is the agent's session id, empty without one.
func (o Outcome) SessionID() string {
	if o.Agent == nil {
		return ""
	}
	return o.Agent.SessionID
}

// Text is the agent's final answer.
func (o Outcome) Text() string {
	if o.Agent == nil {
		return ""
	}
	return o.Agent.Text
}

// StructuredOutput is the JSON the agent produced for a schema; nil when it
// produced none.
func (o Outcome) StructuredOutput() json.RawMessage {
	if o.Agent == nil {
		return nil
	}
	return o.Agent.StructuredOutput
}

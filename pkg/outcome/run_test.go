package outcome

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

// fakeRunner plays back a transcript on stdout and returns a fixed end, so
// the sorting of ends can be tested without a daemon (the CLI's tests run
// the same code on real containers).
type fakeRunner struct {
	stdout, stderr string
	res            engine.Result
	err            error
}

func (f fakeRunner) Run(ctx context.Context, r spec.Run, o engine.RunOptions) (engine.Result, error) {
	_, _ = io.WriteString(o.Stdout, f.stdout)
	_, _ = io.WriteString(o.Stderr, f.stderr)
	return f.res, f.err
}

func transcript(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	assert.NilError(t, err)
	return string(b)
}

func claudePlan(t *testing.T) plan.Plan {
	a, err := agent.Get("claude")
	assert.NilError(t, err)
	return plan.Plan{Agent: a, Run: spec.Run{Sandbox: spec.RunSpec{Timeout: 2 * time.Second}}}
}

func TestRunSortsHowARunEnded(t *testing.T) {
	success := transcript(t, "stream-success-text-only-2.1.195.jsonl")
	authFail := transcript(t, "auth-failure-not-logged-in-2.1.141.jsonl")
	startErr := &engine.StartError{ExitCode: 127, Err: errors.New("exec: \"x\": not found")}
	for _, tc := range []struct {
		name       string
		agent      bool
		run        fakeRunner
		cancel     bool
		wantKind   Kind
		wantCode   int
		wantReason string
	}{
		{name: "agent success", agent: true, run: fakeRunner{stdout: success}, wantKind: Success},
		{name: "agent reports failure, exits 0", agent: true, run: fakeRunner{stdout: authFail},
			wantKind: Failed, wantCode: ExitAgentFailed, wantReason: "its result says it failed"},
		{name: "command exits 3", run: fakeRunner{res: engine.Result{ExitCode: 3, Timings: engine.Timings{Start: 1}}},
			wantKind: Failed, wantCode: 3, wantReason: "the command exited with status 3"},
		{name: "timed out", agent: true, run: fakeRunner{stdout: success[:200], res: engine.Result{ExitCode: 143, TimedOut: true, Timings: engine.Timings{Exit: 3500 * time.Millisecond}}},
			wantKind: TimedOut, wantCode: ExitTimeout, wantReason: "timed out after 2s (stopping it took 1.5s more)"},
		{name: "out of memory, plain command", run: fakeRunner{res: engine.Result{ExitCode: 137, OOMKilled: true}},
			wantKind: OutOfMemory, wantCode: 137, wantReason: "the command was killed for running out of memory"},
		{name: "out of memory, agent", agent: true, run: fakeRunner{res: engine.Result{ExitCode: 137, OOMKilled: true}},
			wantKind: OutOfMemory, wantCode: 137, wantReason: "the agent was killed"},
		{name: "command not in image", run: fakeRunner{err: startErr},
			wantKind: NotStarted, wantCode: 127, wantReason: "not found"},
		{name: "no daemon", run: fakeRunner{err: errors.New("daemon not reachable")},
			wantKind: NotStarted, wantCode: ExitSandboxError, wantReason: "not reachable"},
		{name: "sandbox failed after start", run: fakeRunner{err: errors.New("read sandbox output: EOF"), res: engine.Result{Timings: engine.Timings{Start: 1}}},
			wantKind: Failed, wantCode: ExitSandboxError, wantReason: "read sandbox output"},
		{name: "cancelled", agent: true, cancel: true, run: fakeRunner{res: engine.Result{Cancelled: true, ExitCode: 143}},
			wantKind: Cancelled, wantCode: ExitCancelled, wantReason: "interrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := plan.Plan{Run: spec.Run{Sandbox: spec.RunSpec{Timeout: 2 * time.Second}}}
			if tc.agent {
				p = claudePlan(t)
			}
			ctx, cancel := context.WithCancelCause(context.Background())
			cause := errors.New("received interrupt")
			if tc.cancel {
				cancel(cause)
			}
			defer cancel(nil)
			var events int
			o := Run(ctx, tc.run, p, Options{OnEvent: func(agent.Event) { events++ }})
			assert.Check(t, is.Equal(o.Kind, tc.wantKind))
			assert.Check(t, is.Equal(o.ExitCode, tc.wantCode))
			assert.Check(t, is.Contains(o.Reason, tc.wantReason))
			assert.Check(t, is.Equal(o.OK(), tc.wantKind == Success))
			if tc.cancel {
				assert.Check(t, is.ErrorIs(o.Cause, cause))
			}
			if tc.agent {
				assert.Assert(t, o.Agent != nil)
				assert.Check(t, is.Equal(o.Agent.Outcome, string(tc.wantKind)))
			} else {
				assert.Check(t, o.Agent == nil)
			}
		})
	}
}

func TestRunCarriesTheAgentsResult(t *testing.T) {
	o := Run(context.Background(), fakeRunner{
		stdout: transcript(t, "stream-success-text-only-2.1.195.jsonl"),
		stderr: "warning: something\n",
	}, claudePlan(t), Options{})
	assert.Equal(t, o.Kind, Success)
	assert.Check(t, o.CostUSD() > 0)
	assert.Check(t, o.Turns() > 0)
	assert.Check(t, o.SessionID() != "")
	assert.Check(t, o.Text() != "")
	assert.Check(t, is.Equal(o.StderrTail, "warning: something\n"))
}

func TestResultJSONSaysTheOutcome(t *testing.T) {
	o := Run(context.Background(), fakeRunner{res: engine.Result{ExitCode: 143, TimedOut: true}}, claudePlan(t), Options{})
	b, err := o.Agent.MarshalJSON()
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(b), `{"type":"result","outcome":"timed_out",`))
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/features"
)

// Exit codes of `sandbox run` for outcomes that are not the agent's own
// status, chosen to match docker run and coreutils timeout.
const (
	exitSandboxError = 125 // the sandbox could not be run (docker run's 125)
	exitTimeout      = 124 // the run hit its timeout (timeout(1)'s 124)
	exitCancelled    = 130 // interrupted (128 + SIGINT)
	exitAgentFailed  = 1   // the agent exited 0 but its own result says it failed
)

type runFlags struct {
	runOptions
	wait    bool
	pull    bool
	timings bool
	json    bool
}

func newRunCmd(s *streams) *cobra.Command {
	o := &runFlags{runOptions: runOptions{lookupEnv: s.lookupEnv}}
	cmd := &cobra.Command{
		Use:   "run [flags] [--] [COMMAND [ARG...]]",
		Short: "Run a command or an agent in the sandbox",
		Long: `Run COMMAND, or an agent CLI headless (--agent, --prompt), in a locked-down
container with the working tree mounted at /workspace. Output streams live;
the exit status is the command's, as with docker run (125: the sandbox could
not run it, 127: command not found, 124: timed out, 128+N: stopped by signal
N, 137: killed, e.g. out of memory).`,
		Example: `  sandbox run --image my-agents:1 -- claude -p "review this change"
  sandbox run --image my-agents:1 --agent claude --prompt "fix the failing test" --timings
  sandbox run --image my-agents:1 --network private --agent codex --prompt "…"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), cmd, s, args)
		},
	}
	o.bind(cmd.Flags())
	f := cmd.Flags()
	f.BoolVar(&o.wait, "wait", false, "wait for another run on the same workspace instead of failing")
	f.BoolVar(&o.pull, "pull", false, "pull the image when it is not present")
	f.BoolVar(&o.timings, "timings", false, "print the phase timings")
	f.BoolVar(&o.json, "json", false, "with --agent: print normalised events as JSON lines instead of progress")
	return cmd
}

func (o *runFlags) run(ctx context.Context, cmd *cobra.Command, s *streams, args []string) error {
	r, err := o.resolve(cmd.Flags())
	if err != nil {
		return &exitError{code: exitSandboxError, err: err}
	}
	e, err := engine.Open(ctx)
	if err != nil {
		return &exitError{code: exitSandboxError, err: err}
	}
	defer e.Close()
	if err := fitHost(ctx, e, &r.features); err != nil {
		return &exitError{code: exitSandboxError, err: err}
	}
	p, err := o.build(r, args)
	if err != nil {
		return &exitError{code: exitSandboxError, err: err}
	}
	for _, n := range p.Notices {
		fmt.Fprintf(s.err, "sandbox: %s\n", n)
	}
	fmt.Fprintf(s.err, "sandbox: run %s: %s\n", p.Run.Sandbox.RunID, strings.Join(r.features.Summary(), ", "))

	out := agentOutput{s: s, json: o.json}
	if p.Agent != nil {
		out.start(p.Agent)
	}
	begin := time.Now()
	res, runErr := e.Run(ctx, p.Run, engine.RunOptions{
		Stdout: out.stdout(), Stderr: out.stderr(), WaitForLock: o.wait, Pull: o.pull,
	})
	agentRes, hasAgent := out.finish(res.ExitCode, time.Since(begin))
	if p.Run.Proxy != nil {
		printEgress(s, res, runErr != nil)
	}
	if o.timings {
		fmt.Fprintf(s.err, "sandbox: timings: %s\n", res.Timings)
	}
	return exitFor(ctx, res, runErr, agentRes, hasAgent)
}

// fitHost checks the sandbox type's runtime against the daemon and lowers
// default CPU limits the host cannot give. It asks the daemon only when
// there is something to check, keeping `docker info` off the common path.
func fitHost(ctx context.Context, e *engine.Engine, r *features.Resolved) error {
	if r.Type.Runtime == "" && r.CPUs <= int64(runtime.NumCPU())*1e9 {
		return nil
	}
	h, err := e.Host(ctx)
	if err != nil {
		return err
	}
	return r.Fit(features.Host{Runtimes: h.Runtimes, NCPU: h.NCPU})
}

// exitFor turns how a run ended into the process exit status and message.
func exitFor(ctx context.Context, res engine.Result, err error, ar agent.Result, hasAgent bool) error {
	var se *engine.StartError
	var sig signalError
	switch {
	case ctx.Err() != nil && errors.As(context.Cause(ctx), &sig):
		msg := fmt.Sprintf("%s: the sandbox was stopped and removed", sig)
		if err != nil {
			msg = fmt.Sprintf("%s: %v", sig, err)
		}
		return &exitError{code: 128 + int(sig.sig), err: errors.New(msg)}
	case errors.As(err, &se):
		return &exitError{code: se.ExitCode, err: err}
	case err != nil:
		return &exitError{code: exitSandboxError, err: err}
	case res.TimedOut:
		return &exitError{code: exitTimeout, err: fmt.Errorf("timed out after %s; the sandbox was stopped and removed", res.Timings.Exit.Round(time.Second))}
	case res.Cancelled:
		return &exitError{code: exitCancelled, err: errors.New("interrupted; the sandbox was stopped and removed")}
	case res.OOMKilled:
		return &exitError{code: res.ExitCode, err: errors.New("the agent was killed for running out of memory; raise --memory")}
	case hasAgent && res.ExitCode == 0 && !ar.Success:
		return &exitError{code: exitAgentFailed, err: fmt.Errorf("the agent exited 0 but its result says it failed: %s", ar.ErrorMessage)}
	case res.ExitCode != 0:
		return &exitError{code: res.ExitCode}
	}
	return nil
}

// agentOutput routes the sandbox's streams: straight through for a plain
// command; through the agent's parser, printed as progress or JSON, for an
// agent run.
type agentOutput struct {
	s      *streams
	json   bool
	parser *agent.Parser
	pw     *io.PipeWriter
	done   chan struct{}
	tail   *agent.Tail
	mu     sync.Mutex // serialises writes from the parser goroutine
	enc    *json.Encoder
	prog   *progress
}

func (a *agentOutput) start(ad agent.Adapter) {
	a.tail = agent.NewTail(agent.TailBytes)
	a.enc = json.NewEncoder(a.s.out)
	a.enc.SetEscapeHTML(false)
	a.prog = &progress{w: a.s.out}
	a.parser = ad.NewParser(func(e agent.Event) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.json {
			_ = a.enc.Encode(e)
			return
		}
		a.prog.event(e)
	})
	pr, pw := io.Pipe()
	a.pw = pw
	a.done = make(chan struct{})
	go func() {
		defer close(a.done)
		// A parse error (unreadable stream) ends up in the result as a
		// read error; keep draining so the sandbox never blocks on us.
		_ = a.parser.Parse(pr)
		_, _ = io.Copy(io.Discard, pr)
	}()
}

func (a *agentOutput) stdout() io.Writer {
	if a.parser == nil {
		return a.s.out
	}
	return a.pw
}

func (a *agentOutput) stderr() io.Writer {
	if a.parser == nil {
		return a.s.err
	}
	return io.MultiWriter(a.s.err, a.tail)
}

// finish closes the stream and prints the agent's result.
func (a *agentOutput) finish(exitCode int, wall time.Duration) (agent.Result, bool) {
	if a.parser == nil {
		return agent.Result{}, false
	}
	a.pw.Close()
	<-a.done
	r := a.parser.Finish(exitCode, a.tail.Bytes())
	if a.json {
		_ = a.enc.Encode(r)
	} else {
		a.prog.result(r, wall)
	}
	return r, true
}

// printEgress summarises what the egress proxy allowed and denied; when the
// run failed it also shows the end of the proxy's log.
func printEgress(s *streams, res engine.Result, failed bool) {
	var st egress.Stats
	if len(res.Egress) > 0 && json.Unmarshal(res.Egress, &st) == nil {
		fmt.Fprintf(s.err, "sandbox: egress: %s\n", st.Summary())
	}
	if failed && res.ProxyLog != "" {
		fmt.Fprintf(s.err, "sandbox: egress proxy log (end):\n%s", res.ProxyLog)
	}
}

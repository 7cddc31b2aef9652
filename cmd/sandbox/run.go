package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/outcome"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

// Exit codes of `sandbox run` for outcomes that are not the agent's own
// status (see package outcome).
const (
	exitSandboxError = outcome.ExitSandboxError
	exitTimeout      = outcome.ExitTimeout
	exitCancelled    = outcome.ExitCancelled
	exitAgentFailed  = outcome.ExitAgentFailed
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
  sandbox run --image my-agents:1 --allow @go --agent codex --prompt "…"
  sandbox run --image my-tools:1 --network public -- make test`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), cmd, s, args)
		},
	}
	o.bind(cmd.Flags())
	cmd.SetFlagErrorFunc(badFlag)
	f := cmd.Flags()
	f.BoolVar(&o.wait, "wait", false, "wait for another run on the same workspace instead of failing")
	f.BoolVar(&o.pull, "pull", false, "pull the image when it is not present")
	f.BoolVar(&o.timings, "timings", false, "print the phase timings")
	f.BoolVar(&o.json, "json", false, "with --agent: print normalised events as JSON lines instead of progress")
	return cmd
}

func (o *runFlags) run(ctx context.Context, cmd *cobra.Command, s *streams, args []string) error {
	req, err := o.request(cmd.Flags(), args)
	if err != nil {
		return &exitError{code: exitSandboxError, err: err}
	}
	// The daemon is asked about the host only when the settings need it,
	// so bad settings are reported before a missing daemon.
	var d daemon
	defer d.close()
	req.ImageLabels = d.imageLabels
	req.Egress = d.egress(o.proxyTransport)
	p, settings, err := plan.Make(ctx, req, d.host)
	if err == nil {
		_, err = d.open(ctx)
	}
	if err == nil && !o.pull {
		err = checkProxyImage(ctx, d.e, p, settings)
	}
	if err != nil {
		return &exitError{code: exitSandboxError, err: o.explainUntrusted(err)}
	}
	for _, n := range p.Notices {
		fmt.Fprintf(s.err, "sandbox: %s\n", n)
	}
	fmt.Fprintf(s.err, "sandbox: run %s: %s\n", p.Run.Sandbox.RunID, strings.Join(slices.Concat(p.Summary(settings.Features), settings.ModelSummary(), settings.Egress.Summary()), ", "))

	out := agentOutput{s: s, json: o.json}
	out.start()
	res := outcome.Run(ctx, d.e, p, outcome.Options{
		Stdout: s.out, Stderr: s.err, OnEvent: out.event, WaitForLock: o.wait, Pull: o.pull,
	})
	if res.Agent != nil {
		out.result(*res.Agent, res.Wall)
	}
	if p.Run.Transport() != "" {
		printEgress(s, res)
	}
	if o.timings {
		fmt.Fprintf(s.err, "sandbox: timings: %s\n", res.Timings())
	}
	return exitFor(res)
}

// checkProxyImage refuses a run whose egress proxy runs in a container
// from an image the daemon lacks, before anything is created, and says
// what else would work: private mode is the default, so this is where a
// remote daemon without this project's image ends up.
func checkProxyImage(ctx context.Context, e *engine.Engine, p plan.Plan, s plan.Settings) error {
	px := p.Run.Proxy
	if px == nil {
		return nil
	}
	_, err := e.ImageConfig(ctx, px.Image)
	var missing *engine.ImageMissingError
	if !errors.As(err, &missing) {
		return err
	}
	msg := fmt.Sprintf("the egress proxy runs in a container here (%s), from image %s, which this Docker host does not have: build it (make image) or load it (docker load -i image.tar), or name another with --proxy-image",
		s.Egress.Reason, px.Image)
	if s.Features.Network == spec.Private && !p.Run.Sandbox.Egress.Gateway {
		// Without the credential gateway a public run needs no proxy.
		msg += fmt.Sprintf("; or opt out of private mode (network private, %s) with --network public", s.Features.Source(features.KeyNetwork).Phrase())
	}
	return errors.New(msg)
}

// daemon opens the engine on first use.
type daemon struct{ e *engine.Engine }

func (d *daemon) open(ctx context.Context) (*engine.Engine, error) {
	if d.e != nil {
		return d.e, nil
	}
	e, err := engine.Open(ctx)
	if err != nil {
		return nil, err
	}
	d.e = e
	return e, nil
}

// host tells plan.Make what the daemon offers.
func (d *daemon) host(ctx context.Context) (features.Host, error) {
	e, err := d.open(ctx)
	if err != nil {
		return features.Host{}, err
	}
	h, err := e.Host(ctx)
	return features.Host{Runtimes: h.Runtimes, NCPU: h.NCPU}, err
}

// imageLabels tells plan.Make what the image declares about itself.
func (d *daemon) imageLabels(ctx context.Context, image string) (map[string]string, error) {
	e, err := d.open(ctx)
	if err != nil {
		return nil, err
	}
	return e.ImageLabels(ctx, image)
}

func (d *daemon) close() {
	if d.e != nil {
		d.e.Close()
	}
}

// exitFor turns how a run ended into the process exit status and message.
// A signal exits 128+N, as a process killed by it would; a command's own
// non-zero status is passed on without a message, as docker run does.
func exitFor(o outcome.Outcome) error {
	var sig signalError
	switch {
	case o.OK():
		return nil
	case o.Kind == outcome.Cancelled && errors.As(o.Cause, &sig):
		msg := fmt.Sprintf("%s: the sandbox was stopped and removed", sig)
		// The failed write that a closed stdout causes is the signal itself.
		if o.Err != nil && !errors.Is(o.Err, syscall.EPIPE) {
			msg = fmt.Sprintf("%s: %v", sig, o.Err)
		}
		return &exitError{code: 128 + int(sig.sig), err: errors.New(msg)}
	case o.Kind == outcome.Failed && o.Err == nil && o.ExitCode == o.Engine.ExitCode:
		return &exitError{code: o.ExitCode}
	case o.Kind == outcome.NotStarted || (o.Kind == outcome.Failed && o.Err != nil):
		return &exitError{code: o.ExitCode, err: o.Err}
	}
	return &exitError{code: o.ExitCode, err: errors.New(o.Reason)}
}

// agentOutput prints an agent's events as progress lines or JSON.
type agentOutput struct {
	s    *streams
	json bool
	enc  *json.Encoder
	prog *progress
}

func (a *agentOutput) start() {
	a.enc = json.NewEncoder(a.s.out)
	a.enc.SetEscapeHTML(false)
	a.prog = &progress{w: a.s.out}
}

// event prints one event; outcome.Run calls it from one goroutine at a time.
func (a *agentOutput) event(e agent.Event) {
	if a.json {
		_ = a.enc.Encode(e)
		return
	}
	a.prog.event(e)
}

// result prints the agent's result, which says how the run ended.
func (a *agentOutput) result(r agent.Result, wall time.Duration) {
	if a.json {
		_ = a.enc.Encode(r)
		return
	}
	a.prog.result(r, wall)
}

// printEgress summarises what the egress proxy allowed and denied; when the
// run failed it also shows the end of the proxy's log.
func printEgress(s *streams, o outcome.Outcome) {
	if o.Egress != nil {
		fmt.Fprintf(s.err, "sandbox: egress: %s\n", o.Egress.Summary())
		// What was refused, and the config line that would allow it:
		// suggested, never applied.
		for line := range strings.Lines(o.Egress.DenyReport().String()) {
			if !strings.HasPrefix(line, " ") {
				line = "sandbox: " + line
			}
			fmt.Fprint(s.err, line)
		}
	}
	if o.Err != nil && o.Engine.ProxyLog != "" {
		fmt.Fprintf(s.err, "sandbox: egress proxy log (end):\n%s", o.Engine.ProxyLog)
	}
}

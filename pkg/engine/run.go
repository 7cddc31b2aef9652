package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/org/sandbox-action/pkg/spec"
)

// RunOptions are the caller's choices for one run that are not part of the
// sandbox itself.
type RunOptions struct {
	// Stdout and Stderr receive the agent's demultiplexed output live.
	Stdout, Stderr io.Writer
	// WaitForLock queues behind another run on the same workspace instead
	// of failing at once.
	WaitForLock bool
	// Pull fetches a missing image from its registry.
	Pull bool
}

// Result is how a run ended.
type Result struct {
	ContainerID string
	// ExitCode is the agent's exit code, or the code `docker run` would
	// report when the command could not start (126, 127).
	ExitCode int
	// OOMKilled is set when the kernel killed the agent for exceeding its
	// memory limit.
	OOMKilled bool
	// TimedOut is set when the run hit spec.Timeout and was stopped.
	TimedOut bool
	// Cancelled is set when the caller's context ended the run.
	Cancelled bool
	Timings   Timings
	// Egress is the egress proxy's final counts (private mode), as the JSON
	// line `sandbox proxy` prints when it stops.
	Egress []byte
	// ProxyLog is the end of the proxy's decision log (private mode).
	ProxyLog string
}

// StartError is returned when the container was created but its command
// could not be started, e.g. because the executable is not in the image.
type StartError struct {
	// ExitCode is what `docker run` exits with for the same failure.
	ExitCode int
	Err      error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("start sandbox: %v", e.Err)
}

func (e *StartError) Unwrap() error { return e.Err }

// Run executes r and streams the sandbox's output to o until it exits,
// times out or ctx ends. With an egress proxy, the proxy comes up first: as
// a child process on sockets bound before the sandbox is created (host
// transport), or as a container on the run's volume, started while the
// sandbox is created (container transport; the sandbox starts once the
// proxy serves). Whatever happens, every container and volume labelled with
// the run's id, and the run's socket directory, are removed before Run
// returns, within CleanupBudget.
func (e *Engine) Run(ctx context.Context, r spec.Run, o RunOptions) (res Result, err error) {
	if err := r.Validate(); err != nil {
		return res, err
	}
	begin := time.Now()
	lock, err := e.lockWorkspace(ctx, r.Sandbox.Workspace, o.WaitForLock)
	if err != nil {
		return res, err
	}
	defer lock.unlock()

	run := &runState{e: e, r: r, res: &res}
	// Cleanup is armed before anything exists. A run that ended cleanly
	// removes what it recorded creating; any other (a cancel mid-create,
	// when the daemon may finish creating anyway) finds what was made by
	// its label.
	defer func() {
		if run.proxy != nil {
			run.proxy.close()
			res.ProxyLog = run.proxy.log.tail()
		}
		var herr error
		if run.host != nil {
			herr = run.host.close()
			res.ProxyLog = run.host.log.tail()
		}
		run.sandbox.close()
		cleanupStart := time.Now()
		var cerr error
		if err == nil && !res.Cancelled && !res.TimedOut {
			cerr = e.removeKnown(run.known)
		} else {
			cerr = e.removeRun(r.Sandbox.RunID)
		}
		res.Timings.Cleanup = time.Since(cleanupStart)
		res.Timings.Total = time.Since(begin)
		err = errors.Join(err, cerr, herr)
	}()

	// Without Pull, a missing image is reported by the create itself
	// (see createAttached), which spares every run a round trip.
	for _, s := range []*spec.RunSpec{&r.Sandbox, r.Proxy} {
		if s != nil && o.Pull {
			if err := e.ensureImage(ctx, s.Image, true); err != nil {
				return res, fmt.Errorf("%s: %w", s.Name, err)
			}
		}
	}
	if err := run.create(ctx, o, begin); err != nil {
		return res, err
	}
	if err := run.startSandbox(ctx); err != nil {
		return res, err
	}
	if err := run.await(ctx); err != nil {
		return res, err
	}
	// finish writes into res through run.res: call it before res is read.
	err = run.finish(ctx)
	return res, err
}

// runState is one run in progress.
type runState struct {
	e       *Engine
	r       spec.Run
	res     *Result
	sandbox *attached
	proxy   *proxyRun
	host    *hostProxy
	first   firstByte
	startAt time.Time
	// known are the objects created so far, for a clean exit's cleanup.
	known []Object
}

// create makes the sandbox and its egress proxy: a host proxy first, whose
// directory the sandbox mounts; or the run's volume and then the proxy's
// container, started while the sandbox is created.
func (run *runState) create(ctx context.Context, o RunOptions, begin time.Time) error {
	e, s, res := run.e, run.r.Sandbox, run.res
	createSandbox := func() error {
		t := time.Now()
		a, err := e.createAttached(ctx, s, run.first.wrap(o.Stdout), run.first.wrap(o.Stderr))
		res.Timings.Create = time.Since(t)
		run.sandbox = a
		if a != nil {
			res.ContainerID = a.id
			if s.Remove {
				// Without Remove the container stays after a clean exit, as
				// with docker run without --rm; `sandbox gc` removes it later.
				run.known = append(run.known, Object{Kind: "container", ID: a.id, Name: s.Name})
			}
		}
		return err
	}
	if h := run.r.HostProxy; h != nil {
		hp, err := startHostProxy(h, s)
		run.host = hp
		if err != nil {
			return err
		}
	}
	if run.r.Proxy == nil {
		res.Timings.Prepare = time.Since(begin)
		return createSandbox()
	}

	if err := e.createVolume(ctx, run.r); err != nil {
		return err
	}
	vol := s.Egress.Source
	if s.Remove {
		// A kept sandbox keeps its volume.
		run.known = append(run.known, Object{Kind: "volume", ID: vol, Name: vol})
	}
	created := make(chan error, 1)
	go func() { created <- createSandbox() }()
	px, err := e.startProxy(ctx, run.r.Proxy)
	res.Timings.Prepare = time.Since(begin)
	createErr := <-created // run.known is ours again
	if px.attached != nil {
		run.proxy = px
		run.known = append(run.known, Object{Kind: "container", ID: px.id, Name: px.name})
	}
	return errors.Join(err, createErr)
}

// startSandbox starts the sandbox once the proxy (if any) serves.
func (run *runState) startSandbox(ctx context.Context) error {
	if px := run.proxy; px != nil {
		if err := px.awaitReady(ctx); err != nil {
			return err
		}
		run.res.Timings.Proxy = time.Since(px.started)
	}
	if err := run.host.failed(); err != nil {
		return err
	}
	run.startAt = time.Now()
	if err := run.e.start(ctx, run.sandbox); err != nil {
		return &StartError{ExitCode: startExitCode(err), Err: err}
	}
	run.res.Timings.Start = time.Since(run.startAt)
	return nil
}

// await waits for the sandbox to exit, stopping it on timeout or cancel.
func (run *runState) await(ctx context.Context) error {
	res := run.res
	var timeout <-chan time.Time
	if d := run.r.Sandbox.Timeout; d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		timeout = timer.C
	}
	var status container.WaitResponse
	var err error
	select {
	case status = <-run.sandbox.wait.Result:
	case err = <-run.sandbox.wait.Error:
		err = fmt.Errorf("wait for sandbox: %w", err)
	case <-timeout:
		res.TimedOut = true
		status, err = run.e.stop(run.sandbox)
	case <-ctx.Done():
		res.Cancelled = true
		status, err = run.e.stop(run.sandbox)
	}
	res.Timings.Exit = time.Since(run.startAt)
	res.ExitCode = int(status.StatusCode)
	return err
}

// exitKilled is the status of a process killed by SIGKILL, as the kernel's
// OOM killer does; only then is the container asked whether that happened.
const exitKilled = 128 + 9

// oomKillGrace bounds the wait for the daemon to record an out-of-memory
// kill it learns of after the exit: under gVisor the OOM event can arrive
// after the exit event, and a single inspect then reports a plain SIGKILL.
const oomKillGrace = time.Second

// oomKilled reports whether the daemon recorded an OOM kill of container
// id, asking again for up to oomKillGrace. It is only asked after an exit
// by SIGKILL, so other runs never wait.
func (e *Engine) oomKilled(ctx context.Context, id string) bool {
	deadline := time.Now().Add(oomKillGrace)
	for {
		info, err := e.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil || info.Container.State == nil {
			return false
		}
		if info.Container.State.OOMKilled || time.Now().After(deadline) {
			return info.Container.State.OOMKilled
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// finish collects what the run left to read: the sandbox's last output,
// whether it was OOM-killed and, in private mode, the proxy's counts. The
// proxy, with nothing left to serve, is stopped while the output drains.
func (run *runState) finish(ctx context.Context) error {
	res := run.res
	type proxyStop struct {
		egress []byte
		err    error
	}
	stopped := make(chan proxyStop, 1)
	switch {
	case run.proxy != nil:
		go func() {
			egress, err := run.proxy.stop(run.e)
			stopped <- proxyStop{egress, err}
		}()
	case run.host != nil:
		go func() {
			egress, err := run.host.stop()
			stopped <- proxyStop{egress, err}
		}()
	}

	// The exit code is only reported once everything the agent printed has
	// been delivered.
	err := run.sandbox.drain()
	if first := run.first.since(run.startAt); first > 0 {
		// Output read before the start call returned is counted at its
		// return, so that the phases read in the order the caller saw them.
		res.Timings.FirstOutput = max(first, res.Timings.Start)
	}
	if err != nil {
		err = fmt.Errorf("read sandbox output: %w", err)
	} else if res.ExitCode == exitKilled && !res.Cancelled && !res.TimedOut {
		res.OOMKilled = run.e.oomKilled(context.WithoutCancel(ctx), run.sandbox.id)
	}
	if run.proxy != nil || run.host != nil {
		st := <-stopped
		res.Egress = st.egress
		err = errors.Join(err, st.err)
	}
	return err
}

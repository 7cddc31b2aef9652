package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
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
// times out or ctx ends. In private mode the internal network and the egress
// proxy come up first, in parallel with creating the sandbox, which starts
// only once the proxy serves. Whatever happens, every container and network
// labelled with the run's id is removed before Run returns, within
// CleanupBudget.
func (e *Engine) Run(ctx context.Context, r spec.Run, o RunOptions) (res Result, err error) {
	if err := r.Validate(); err != nil {
		return res, err
	}
	s := r.Sandbox
	begin := time.Now()
	lock, err := e.lockWorkspace(ctx, s.Workspace, o.WaitForLock)
	if err != nil {
		return res, err
	}
	defer lock.unlock()

	// Cleanup is armed before anything exists. A run that ended cleanly
	// removes what it recorded creating; any other (a cancel mid-create,
	// when the daemon may finish creating anyway) finds what was made by
	// its label.
	var known []Object
	defer func() {
		cleanupStart := time.Now()
		var cerr error
		if err == nil && !res.Cancelled && !res.TimedOut {
			cerr = e.removeKnown(known)
		} else {
			cerr = e.removeRun(s.RunID)
		}
		if cerr != nil {
			err = errors.Join(err, cerr)
		}
		res.Timings.Cleanup = time.Since(cleanupStart)
		res.Timings.Total = time.Since(begin)
	}()

	if err := e.ensureImage(ctx, s.Image, o.Pull); err != nil {
		return res, err
	}
	var created client.ContainerCreateResult
	createSandbox := func() error {
		cfg, hc, nc := s.EngineConfig()
		// The engine removes the container itself, after reading its final
		// state (exit code, OOM kill) — the outcome `--rm` asks for, without
		// racing the daemon's auto-removal.
		hc.AutoRemove = false
		t := time.Now()
		// A create is never abandoned halfway (see uninterrupted); a cancel
		// that arrives meanwhile is seen by the next call.
		var err error
		created, err = e.c.ContainerCreate(uninterrupted(ctx), client.ContainerCreateOptions{
			Config: cfg, HostConfig: hc, NetworkingConfig: nc, Name: s.Name,
		})
		res.Timings.Create = time.Since(t)
		if err != nil {
			return ctxErr(ctx, fmt.Errorf("create sandbox: %w", err))
		}
		return nil
	}

	var px *proxyRun
	if r.Proxy != nil {
		if err := e.ensureImage(ctx, r.Proxy.Image, o.Pull); err != nil {
			return res, fmt.Errorf("egress proxy: %w", err)
		}
		if err := e.createNetwork(ctx, r); err != nil {
			return res, err
		}
		known = append(known, Object{Kind: "network", ID: s.Network.Name, Name: s.Network.Name})
		// The sandbox needs only the network to be created, so it is
		// created while the proxy starts; it is started once the proxy
		// serves.
		sandboxCreated := make(chan error, 1)
		go func() { sandboxCreated <- createSandbox() }()
		px, err = e.startProxy(ctx, r)
		res.Timings.Prepare = time.Since(begin)
		createErr := <-sandboxCreated
		if px != nil {
			known = append(known, Object{Kind: "container", ID: px.id, Name: r.Proxy.Name})
			defer func() {
				if res.Egress == nil {
					px.att.Close()
				}
				res.ProxyLog = px.log.tail()
			}()
		}
		if err := errors.Join(err, createErr); err != nil {
			return res, err
		}
	} else {
		res.Timings.Prepare = time.Since(begin)
		if err := createSandbox(); err != nil {
			return res, err
		}
	}
	res.ContainerID = created.ID
	if s.Remove {
		// Without Remove the container stays after a clean exit, as with
		// docker run without --rm; `sandbox gc` removes it later.
		known = append(known, Object{Kind: "container", ID: created.ID, Name: s.Name})
	}

	// Attach before start so no output is lost; wait before start so a
	// fast exit is not missed.
	t := time.Now()
	att, err := e.c.ContainerAttach(ctx, created.ID, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return res, ctxErr(ctx, fmt.Errorf("attach sandbox: %w", err))
	}
	defer att.Close()
	waitCtx, stopWaiting := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWaiting()
	wait := e.c.ContainerWait(waitCtx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})

	if px != nil {
		if err := px.awaitReady(ctx); err != nil {
			return res, err
		}
		res.Timings.Proxy = time.Since(px.started)
	}

	var first firstByte
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(first.wrap(o.Stdout), first.wrap(o.Stderr), att.Reader)
		copied <- err
	}()

	// Start is not interrupted halfway: a cancel that arrives now is seen
	// below and stops the agent gracefully, like any other cancel.
	startAt := time.Now()
	if _, err := e.c.ContainerStart(context.WithoutCancel(ctx), created.ID, client.ContainerStartOptions{}); err != nil {
		return res, &StartError{ExitCode: startExitCode(err), Err: err}
	}
	res.Timings.Start = time.Since(t)

	var timeout <-chan time.Time
	if s.Timeout > 0 {
		timer := time.NewTimer(s.Timeout)
		defer timer.Stop()
		timeout = timer.C
	}

	var status container.WaitResponse
	select {
	case status = <-wait.Result:
	case err := <-wait.Error:
		return res, fmt.Errorf("wait for sandbox: %w", err)
	case <-timeout:
		res.TimedOut = true
		status, err = e.stop(created.ID, wait)
	case <-ctx.Done():
		res.Cancelled = true
		status, err = e.stop(created.ID, wait)
	}
	res.Timings.Exit = time.Since(startAt)
	if err != nil {
		return res, err
	}
	res.ExitCode = int(status.StatusCode)

	// With the agent gone the proxy has nothing left to serve: it is
	// stopped (and prints its final counts) while the sandbox's output
	// drains.
	type proxyStop struct {
		egress []byte
		err    error
	}
	proxyStopped := make(chan proxyStop, 1)
	if px != nil {
		go func() {
			egress, err := px.stop(e)
			proxyStopped <- proxyStop{egress, err}
		}()
	}

	// The exit code is only reported once everything the agent printed has
	// been delivered.
	drainErr := drain(copied, att)
	res.Timings.FirstOutput = first.since(startAt)
	if drainErr != nil {
		drainErr = fmt.Errorf("read sandbox output: %w", drainErr)
	}

	if drainErr == nil && !res.Cancelled && !res.TimedOut {
		info, err := e.c.ContainerInspect(context.WithoutCancel(ctx), created.ID, client.ContainerInspectOptions{})
		if err == nil && info.Container.State != nil {
			res.OOMKilled = info.Container.State.OOMKilled
		}
	}
	if px != nil {
		st := <-proxyStopped
		res.Egress = st.egress
		return res, errors.Join(drainErr, st.err)
	}
	return res, drainErr
}

// stop asks the container to exit (SIGTERM, then SIGKILL after stopGrace)
// and returns its exit status.
func (e *Engine) stop(id string, wait client.ContainerWaitResult) (container.WaitResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupBudget)
	defer cancel()
	grace := int(stopGrace.Seconds())
	if _, err := e.c.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &grace}); err != nil {
		return container.WaitResponse{}, fmt.Errorf("stop sandbox: %w", err)
	}
	select {
	case s := <-wait.Result:
		return s, nil
	case err := <-wait.Error:
		return container.WaitResponse{}, fmt.Errorf("wait for sandbox: %w", err)
	case <-ctx.Done():
		return container.WaitResponse{}, fmt.Errorf("sandbox did not stop within %s", CleanupBudget)
	}
}

// drainGrace bounds how long output may keep arriving after the container
// has exited (e.g. a grandchild still holding the pipe).
const drainGrace = 2 * time.Second

func drain(copied <-chan error, att client.ContainerAttachResult) error {
	select {
	case err := <-copied:
		return err
	case <-time.After(drainGrace):
		att.Close()
		<-copied
		return nil
	}
}

// startExitCode maps a start failure to the exit code `docker run` uses for
// it, so scripts see the same status from the sandbox as from docker.
func startExitCode(err error) int {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"),
		strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied"),
		strings.Contains(msg, "is a directory"):
		return 126
	default:
		return 125
	}
}

// uninterrupted keeps ctx's values but not its cancellation, for creating
// containers and networks. The daemon finishes a create it has received even
// when the client hangs up, so an interrupted create could make its object
// after the cleanup had listed the run's labels, and leave it behind. A
// create takes milliseconds; the cancel is honoured right after it.
func uninterrupted(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// ctxErr prefers the context's cause when ctx ended, so a cancelled run says
// it was cancelled rather than reporting a confusing transport error.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("run cancelled: %w", context.Cause(ctx))
	}
	return err
}

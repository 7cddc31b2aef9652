package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/org/sandbox-action/pkg/spec"
)

// attached is a created container whose output is already being copied and
// whose exit is already awaited, so nothing it does after start is missed.
type attached struct {
	id     string
	name   string
	att    client.ContainerAttachResult
	wait   client.ContainerWaitResult
	copied chan error
}

// createAttached creates the container s describes, attaches to its output
// (demultiplexed into stdout and stderr) and registers for its exit, all
// before it starts.
func (e *Engine) createAttached(ctx context.Context, s spec.RunSpec, stdout, stderr io.Writer) (*attached, error) {
	cfg, hc, nc := s.EngineConfig()
	// The engine removes containers itself, after reading their final state
	// (exit code, OOM kill, the proxy's counts): the outcome `--rm` asks
	// for, without racing the daemon's auto-removal.
	hc.AutoRemove = false
	created, err := e.c.ContainerCreate(uninterrupted(ctx), client.ContainerCreateOptions{
		Config: cfg, HostConfig: hc, NetworkingConfig: nc, Name: s.Name,
	})
	if err != nil {
		if cerrdefs.IsNotFound(err) && strings.Contains(err.Error(), "No such image") {
			return nil, &ImageMissingError{Image: s.Image}
		}
		return nil, ctxErr(ctx, fmt.Errorf("create %s: %w", s.Name, err))
	}
	a := &attached{id: created.ID, name: s.Name, copied: make(chan error, 1)}
	a.att, err = e.c.ContainerAttach(ctx, created.ID, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return a, ctxErr(ctx, fmt.Errorf("attach %s: %w", s.Name, err))
	}
	a.wait = e.c.ContainerWait(context.WithoutCancel(ctx), created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	go func() {
		_, err := stdcopy.StdCopy(orDiscard(stdout), orDiscard(stderr), a.att.Reader)
		a.copied <- err
	}()
	return a, nil
}

// start starts the container. It is not interrupted halfway: a cancel that
// arrives meanwhile is seen by the caller next and stops it like any other.
func (e *Engine) start(ctx context.Context, a *attached) error {
	_, err := e.c.ContainerStart(context.WithoutCancel(ctx), a.id, client.ContainerStartOptions{})
	return err
}

// stop asks the container to exit (SIGTERM, then SIGKILL after stopGrace)
// and returns its exit status.
func (e *Engine) stop(a *attached) (container.WaitResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupBudget)
	defer cancel()
	grace := int(stopGrace.Seconds())
	if _, err := e.c.ContainerStop(ctx, a.id, client.ContainerStopOptions{Timeout: &grace}); err != nil {
		return container.WaitResponse{}, fmt.Errorf("stop %s: %w", a.name, err)
	}
	select {
	case s := <-a.wait.Result:
		return s, nil
	case err := <-a.wait.Error:
		return container.WaitResponse{}, fmt.Errorf("wait for %s: %w", a.name, err)
	case <-ctx.Done():
		return container.WaitResponse{}, fmt.Errorf("%s did not stop within %s", a.name, CleanupBudget)
	}
}

// drainGrace bounds how long output may keep arriving after the container
// has exited (e.g. a grandchild still holding the pipe).
const drainGrace = 2 * time.Second

// drain waits until everything the container printed has been delivered.
func (a *attached) drain() error {
	select {
	case err := <-a.copied:
		return err
	case <-time.After(drainGrace):
		a.att.Close()
		<-a.copied
		return nil
	}
}

// close hangs up the attach stream; safe on a partly created container.
func (a *attached) close() {
	if a != nil && a.att.Conn != nil {
		a.att.Close()
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
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

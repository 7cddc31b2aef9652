package engine

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/pkg/spec"
	is "gotest.tools/v3/assert/cmp"
)

func TestRunStreamsDemultiplexedOutputAndExitCode(t *testing.T) {
	e, c := newTestEngine(t)
	eachIsolation(t, func(t *testing.T, iso isolation) {
		s := iso.spec(t, "stream", "5", "10ms")
		var out, errw lineWriter
		res, err := e.Run(context.Background(), spec.Run{Sandbox: s}, RunOptions{Stdout: &out, Stderr: &errw})
		assert.NilError(t, err)
		assert.Equal(t, res.ExitCode, 0)
		assert.Equal(t, out.String(), "out 1\nout 3\nout 5\n")
		assert.Equal(t, errw.String(), "err 2\nerr 4\n")
		assert.Assert(t, res.Timings.FirstOutput > 0, "first output not timed: %+v", res.Timings)
		assert.Assert(t, res.Timings.Exit >= res.Timings.FirstOutput)
		assert.Assert(t, res.Timings.FirstOutput >= res.Timings.Start, "first output before start: %+v", res.Timings)
		assertNothingLeft(t, c, s.RunID)
	})
}

func TestRunReturnsTheAgentsExitCode(t *testing.T) {
	e, c := newTestEngine(t)
	eachIsolation(t, func(t *testing.T, iso isolation) {
		for _, code := range []int{3, 255} {
			s := iso.spec(t, "exit", strconv.Itoa(code))
			res, err := e.Run(context.Background(), spec.Run{Sandbox: s}, RunOptions{})
			assert.NilError(t, err)
			assert.Equal(t, res.ExitCode, code)
			assertNothingLeft(t, c, s.RunID)
		}
	})
}

// Output must reach the caller while the agent still runs, not at exit.
func TestRunStreamsLive(t *testing.T) {
	e, _ := newTestEngine(t)
	s := testSpec(t, "trap")
	out := newLineWriter("ready")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = e.Run(ctx, spec.Run{Sandbox: s}, RunOptions{Stdout: out})
	}()
	// trap prints "ready" and then blocks until signalled: seeing it while
	// Run has not returned proves streaming.
	out.waitSeen(t, 20*time.Second)
	select {
	case <-done:
		t.Fatal("Run returned before it was cancelled")
	default:
	}
	cancel()
	<-done
}

func TestRunCommandNotFoundExits127(t *testing.T) {
	e, c := newTestEngine(t)
	eachIsolation(t, func(t *testing.T, iso isolation) { commandNotFoundExits127(t, e, c, iso) })
}

func commandNotFoundExits127(t *testing.T, e *Engine, c *client.Client, iso isolation) {
	for _, noInit := range []bool{false, true} {
		s := iso.spec(t)
		s.Command = []string{"/no/such/agent"}
		s.Relax.NoInit = noInit
		var errw lineWriter
		res, err := e.Run(context.Background(), spec.Run{Sandbox: s}, RunOptions{Stderr: &errw})
		// With --init the init process reports the failed exec and exits
		// 127; without it the runtime refuses to start the container. Both
		// end as `docker run` does: status 127.
		var se *StartError
		if errors.As(err, &se) {
			assert.Equal(t, se.ExitCode, 127, "no init: %v", noInit)
		} else {
			assert.NilError(t, err)
			assert.Equal(t, res.ExitCode, 127, "no init: %v", noInit)
			assert.Assert(t, strings.Contains(errw.String(), "/no/such/agent"), "stderr: %q", errw.String())
		}
		assertNothingLeft(t, c, s.RunID)
	}
}

func TestRunImageAbsentSaysHowToGetIt(t *testing.T) {
	e, c := newTestEngine(t)
	s := testSpec(t, "echo")
	s.Image = "sandbox-action-test/absent:nope"
	_, err := e.Run(context.Background(), spec.Run{Sandbox: s}, RunOptions{})
	var me *ImageMissingError
	assert.Assert(t, errors.As(err, &me), "got %v", err)
	assert.ErrorContains(t, err, "docker build")
	assert.ErrorContains(t, err, "docker load")
	assertNothingLeft(t, c, s.RunID)
}

func TestRunTimeoutStopsAndCleansUp(t *testing.T) {
	e, c := newTestEngine(t)
	eachIsolation(t, func(t *testing.T, iso isolation) {
		s := iso.spec(t, "sleep", "60s")
		s.Timeout = time.Second
		start := time.Now()
		res, err := e.Run(context.Background(), spec.Run{Sandbox: s}, RunOptions{})
		assert.NilError(t, err)
		assert.Assert(t, res.TimedOut)
		assert.Assert(t, time.Since(start) < s.Timeout+CleanupBudget+5*time.Second, "took %s", time.Since(start))
		assertNothingLeft(t, c, s.RunID)
	})
}

func TestRunCancelStopsAndRemovesWithinBudget(t *testing.T) {
	e, c := newTestEngine(t)
	eachIsolation(t, func(t *testing.T, iso isolation) { cancelStopsAndRemovesWithinBudget(t, e, c, iso) })
}

func cancelStopsAndRemovesWithinBudget(t *testing.T, e *Engine, c *client.Client, iso isolation) {
	s := iso.spec(t, "trap")
	out := newLineWriter("ready")
	ctx, cancel := context.WithCancel(context.Background())
	type ret struct {
		res Result
		err error
	}
	done := make(chan ret, 1)
	go func() {
		res, err := e.Run(ctx, spec.Run{Sandbox: s}, RunOptions{Stdout: out})
		done <- ret{res, err}
	}()
	out.waitSeen(t, 20*time.Second)
	cancelled := time.Now()
	cancel()
	r := <-done
	assert.Assert(t, time.Since(cancelled) < CleanupBudget, "cleanup took %s", time.Since(cancelled))
	assert.NilError(t, r.err)
	assert.Assert(t, r.res.Cancelled)
	// trap exits 0 on SIGTERM: the agent was stopped gracefully.
	assert.Assert(t, strings.Contains(out.String(), "got terminated"), "agent saw no SIGTERM: %q", out.String())
	assertNothingLeft(t, c, s.RunID)
}

// cancelOnCreate lets the real create happen and then reports the caller's
// Ctrl-C, as when the signal arrives while the daemon is still creating.
type cancelOnCreate struct {
	*client.Client
	cancel context.CancelFunc
}

func (c cancelOnCreate) ContainerCreate(ctx context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	_, err := c.Client.ContainerCreate(ctx, o)
	if err != nil {
		return client.ContainerCreateResult{}, err
	}
	c.cancel()
	return client.ContainerCreateResult{}, ctx.Err()
}

func TestRunCancelDuringCreateLeavesNothing(t *testing.T) {
	_, c := newTestEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := New(cancelOnCreate{Client: c, cancel: cancel})
	s := testSpec(t, "echo", "never")
	_, err := e.Run(ctx, spec.Run{Sandbox: s}, RunOptions{})
	assert.ErrorContains(t, err, "cancel")
	assertNothingLeft(t, c, s.RunID)
}

func TestRunReportsOOMKill(t *testing.T) {
	e, c := newTestEngine(t)
	eachIsolation(t, func(t *testing.T, iso isolation) {
		s := iso.spec(t, "alloc", "256")
		s.Limits.MemoryBytes = 32 << 20
		res, err := e.Run(context.Background(), spec.Run{Sandbox: s}, RunOptions{})
		assert.NilError(t, err)
		assert.Assert(t, res.OOMKilled, "exit %d", res.ExitCode)
		assert.Equal(t, res.ExitCode, 137)
		assertNothingLeft(t, c, s.RunID)
	})
}

func TestSecondRunOnSameWorkspaceIsRefused(t *testing.T) {
	e, _ := newTestEngine(t)
	first := testSpec(t, "trap")
	out := newLineWriter("ready")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Run(ctx, spec.Run{Sandbox: first}, RunOptions{Stdout: out})
		done <- err
	}()
	out.waitSeen(t, 20*time.Second)

	second := testSpec(t, "echo", "hi")
	second.Workspace = first.Workspace
	_, err := e.Run(context.Background(), spec.Run{Sandbox: second}, RunOptions{})
	assert.Assert(t, errors.Is(err, ErrWorkspaceBusy), "got %v", err)
	assert.ErrorContains(t, err, "--wait")

	// With WaitForLock the second run queues and runs once the first ends.
	var got lineWriter
	waited := make(chan error, 1)
	go func() {
		_, err := e.Run(context.Background(), spec.Run{Sandbox: second}, RunOptions{Stdout: &got, WaitForLock: true})
		waited <- err
	}()
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, got.String(), "", "second run started while the first held the workspace")
	cancel()
	assert.NilError(t, <-done)
	assert.NilError(t, <-waited)
	assert.Check(t, is.Equal(got.String(), "hi\n"))
}

func TestRunWithoutRemoveKeepsTheContainer(t *testing.T) {
	e, c := newTestEngine(t)
	s := testSpec(t, "echo", "kept")
	s.Remove = false
	res, err := e.Run(context.Background(), spec.Run{Sandbox: s}, RunOptions{})
	assert.NilError(t, err)
	info, err := c.ContainerInspect(context.Background(), res.ContainerID, client.ContainerInspectOptions{})
	assert.NilError(t, err, "container was removed")
	assert.Equal(t, info.Container.State.ExitCode, 0)
	removed, err := e.GC(context.Background(), GCOptions{RunID: s.RunID})
	assert.NilError(t, err)
	assert.Equal(t, len(removed), 1)
	assertNothingLeft(t, c, s.RunID)
}

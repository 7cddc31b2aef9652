// Command sandbox runs an AI coding agent headless inside a locked-down Docker
// sandbox, exactly as the sandbox-action GitHub Action does in CI.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"

	"github.com/org/sandbox-action/internal/action"
	"github.com/org/sandbox-action/pkg/forwarder"
)

func main() {
	runAction, args := actionArgs(os.Args[1:])
	if runAction {
		os.Exit(action.Main())
	}
	// The forwarder is a private sandbox's entrypoint: it skips the CLI
	// (and its signal handling, which it does itself) and stays small.
	if len(args) > 0 && args[0] == forwardCmdName {
		runtime.GOMAXPROCS(1)
		os.Exit(forwarder.Main(args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	ctx, stop := notifyContext(context.Background(), stopSignals...)
	closed := watchPipes(stop)
	code := realMain(ctx, args, &streams{in: os.Stdin, out: closed.wrap(os.Stdout), err: closed.wrap(os.Stderr), lookupEnv: os.LookupEnv})
	stop(nil)
	os.Exit(closed.exitCode(code))
}

// stopSignals stop a run: the sandbox is stopped and removed, and sandbox
// exits 128+N. SIGHUP comes from a closed terminal or a dropped SSH
// session, SIGQUIT from Ctrl-\; by default either would kill sandbox and
// leave the container running.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// signalError is the cause of a context cancelled by a signal, so the run
// can exit 128+N like a process killed by that signal would.
type signalError struct{ sig syscall.Signal }

func (e signalError) Error() string { return "received " + e.sig.String() }

// notifyContext is signal.NotifyContext with the signal kept as the
// context's cause. stop(cause) ends it with that cause (nil: the command is
// done).
func notifyContext(parent context.Context, sigs ...os.Signal) (context.Context, func(cause error)) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case s := <-ch:
			sig, _ := s.(syscall.Signal)
			cancel(signalError{sig: sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func(cause error) {
		if cause == nil {
			signal.Stop(ch)
			cause = fmt.Errorf("done")
		}
		cancel(cause)
	}
}

// brokenPipe is what a write to a closed standard output or error does
// (`sandbox run … | head`): by default SIGPIPE kills sandbox there and
// then, with the container left running and the proxy's sockets on disk.
// Instead the write fails, and the run stops and removes everything as for
// any stopping signal, exiting 141 (128+SIGPIPE) as a process killed by it
// would.
type brokenPipe struct {
	stop func(error)
	hit  atomic.Bool
}

// watchPipes makes a write to a closed pipe fail with EPIPE instead of
// killing the process. Receiving SIGPIPE is what does that; a SIGPIPE from
// any other write (a socket) only fails that write, as by default.
func watchPipes(stop func(error)) *brokenPipe {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	return &brokenPipe{stop: stop}
}

// wrap returns w, whose EPIPE stops the run.
func (b *brokenPipe) wrap(w io.Writer) io.Writer { return pipeWriter{w: w, b: b} }

// exitCode is 141 once a standard stream was closed, whatever the command
// made of the failed write.
func (b *brokenPipe) exitCode(code int) int {
	if b.hit.Load() {
		return 128 + int(syscall.SIGPIPE)
	}
	return code
}

type pipeWriter struct {
	w io.Writer
	b *brokenPipe
}

func (p pipeWriter) Write(data []byte) (int, error) {
	n, err := p.w.Write(data)
	if errors.Is(err, syscall.EPIPE) && !p.b.hit.Swap(true) {
		p.b.stop(signalError{sig: syscall.SIGPIPE})
	}
	return n, err
}

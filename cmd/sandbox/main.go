// Command sandbox runs an AI coding agent headless inside a locked-down Docker
// sandbox, exactly as the sandbox-action GitHub Action does in CI.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
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
	code := realMain(ctx, args, &streams{in: os.Stdin, out: os.Stdout, err: os.Stderr, lookupEnv: os.LookupEnv})
	stop()
	os.Exit(code)
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
// context's cause.
func notifyContext(parent context.Context, sigs ...os.Signal) (context.Context, func()) {
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
	return ctx, func() {
		signal.Stop(ch)
		cancel(fmt.Errorf("done"))
	}
}

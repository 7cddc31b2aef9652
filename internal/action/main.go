// Package action is the entrypoint of the sandbox-action container action:
// it reads the workflow's inputs and event, runs the agent in the same
// sandbox `sandbox run` builds, and reports back to the pull request with
// one status comment that always ends, and a review.
//
// It is a package rather than a command so that the action's image ships
// one binary: `sandbox action` runs it, sharing every other package with
// the CLI instead of carrying a second copy of them.
package action

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Main runs the action in this process, as the runner starts it (inputs are
// INPUT_* variables, the log is stdout), and returns its exit code.
func Main() int {
	// The runner cancels a job with SIGINT, then SIGTERM 7.5 s later, then
	// SIGKILL 2.5 s after that. The first signal cancels the run; keeping
	// the handler installed until exit means the second one does not kill
	// the process while it stops the sandbox and finalises the comment.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return realMain(ctx, environ(os.Environ()), os.Stdout)
}

// realMain runs the action and returns its exit code. env is its whole
// environment (inputs are INPUT_* variables), stdout the log.
func realMain(ctx context.Context, env map[string]string, stdout io.Writer) int {
	a := newAction(func(k string) string { return env[k] }, stdout)
	for k := range env {
		a.envNames = append(a.envNames, k)
	}
	return a.main(ctx)
}

// environ turns os.Environ into a map.
func environ(kvs []string) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// Command action is the entrypoint of the sandbox-action container action:
// it reads the workflow's inputs and event, runs the agent in the same
// sandbox `sandbox run` builds, and reports back to the pull request with
// one status comment that always ends, and a review.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// sandboxPath is the sandbox CLI in the action's image. The image serves
// two roles: the action (no arguments, as the runner starts it) and, as
// `sandbox proxy`, the egress proxy of private runs, whose containers are
// started with the proxy's arguments.
const sandboxPath = "/usr/local/bin/sandbox"

func main() {
	if len(os.Args) > 1 {
		// A container of this image started with arguments is a sandbox
		// command (the proxy), not the action.
		err := syscall.Exec(sandboxPath, append([]string{sandboxPath}, os.Args[1:]...), os.Environ())
		fmt.Fprintf(os.Stderr, "action: run %s: %v\n", sandboxPath, err)
		os.Exit(127)
	}
	// The runner cancels a job with SIGINT, then SIGTERM 7.5 s later, then
	// SIGKILL 2.5 s after that. The first signal cancels the run; keeping
	// the handler installed until exit means the second one does not kill
	// the process while it stops the sandbox and finalises the comment.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := realMain(ctx, environ(os.Environ()), os.Stdout)
	stop()
	os.Exit(code)
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

// Command sandbox runs an AI coding agent headless inside a locked-down Docker
// sandbox, exactly as the sandbox-action GitHub Action does in CI.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, done := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := realMain(ctx, os.Args[1:], &streams{in: os.Stdin, out: os.Stdout, err: os.Stderr, lookupEnv: os.LookupEnv})
	done()
	os.Exit(code)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/spf13/cobra"
)

// streams are the process's standard streams, injected so tests can run
// commands in-process and read what a person would see.
type streams struct {
	in  io.Reader
	out io.Writer
	err io.Writer
	// lookupEnv reads the environment (os.LookupEnv outside tests).
	lookupEnv func(string) (string, bool)
}

// exitError carries a specific exit code out of a command, the way `docker
// run` exits with the code of the program it ran.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// realMain runs the CLI and returns the process exit code: the command's own
// code for an exitError, 1 for other errors, 0 on success.
func realMain(ctx context.Context, args []string, s *streams) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	// A reader that went away (`sandbox events … | head`) is no error to
	// report; main exits 141 for it.
	if errors.Is(err, syscall.EPIPE) {
		return 1
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(s.err, "sandbox: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(s.err, "sandbox: %v\n", err)
	return 1
}

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "sandbox",
		Short:         "Run AI coding agents headless in a locked-down Docker sandbox",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.AddCommand(
		newVersionCmd(s),
		newRunCmd(s),
		newCmdCmd(s),
		newPsCmd(s),
		newGCCmd(s),
		newDoctorCmd(s),
		newTrustCmd(s),
		newProxyCmd(s),
		newEventsCmd(s),
		newReviewCmd(s),
		newForwardCmd(s),
		newActionCmd(s),
	)
	return root
}

// badFlag makes a flag that cannot be parsed exit 125, as docker run does,
// for the commands that describe a sandbox run.
func badFlag(_ *cobra.Command, err error) error {
	return &exitError{code: exitSandboxError, err: err}
}

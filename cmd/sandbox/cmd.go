package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

func newCmdCmd(s *streams) *cobra.Command {
	o := &runOptions{lookupEnv: s.lookupEnv}
	cmd := &cobra.Command{
		Use:   "cmd [flags] [--] [COMMAND [ARG...]]",
		Short: "Print the docker run line equivalent to a sandbox run",
		Long: `Print the docker command line that creates exactly the container
` + "`sandbox run`" + ` with the same flags would create. Only values written as
NAME=VALUE on the command line or in the config file are printed; secrets,
model keys, env file values and variables copied from the environment are
shown as -e NAME: docker copies them from the environment of the shell the
line is pasted into (for an env file, export it first: set -a; . FILE; set +a).
The timeout has no docker flag; sandbox run enforces it.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Bad input exits 125, as it does for sandbox run.
			req, err := o.request(cmd.Flags(), args)
			if err != nil {
				return &exitError{code: exitSandboxError, err: err}
			}
			// No host check, but where the egress proxy runs and what the
			// image runs are the daemon's to say (a run without a proxy
			// is printed without asking one).
			var d daemon
			defer d.close()
			req.Egress = d.egress(o.proxyTransport)
			p, _, err := plan.Make(cmd.Context(), req, nil)
			if err != nil {
				return &exitError{code: exitSandboxError, err: o.explainUntrusted(err)}
			}
			for _, n := range p.Notices {
				fmt.Fprintf(s.err, "sandbox: %s\n", n)
			}
			// The line names the seccomp profile's file; it must exist
			// when the line is pasted.
			if _, err := spec.EnsureSeccompFile(); err != nil {
				return &exitError{code: exitSandboxError, err: err}
			}
			fmt.Fprintln(s.out, p.Run.Script())
			return nil
		},
	}
	o.bind(cmd.Flags())
	cmd.SetFlagErrorFunc(badFlag)
	return cmd
}

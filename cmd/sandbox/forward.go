package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/forwarder"
)

// forwardCmdName is the hidden subcommand a private sandbox starts as its
// entrypoint; main runs it before the CLI is set up.
const forwardCmdName = "forward"

// newForwardCmd is listed for completeness (main dispatches to the
// forwarder before cobra runs); it is hidden because people never call it.
func newForwardCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:                forwardCmdName + " [--route PORT=SOCKET]... -- COMMAND [ARG...]",
		Short:              "Relay loopback ports to unix sockets, then run COMMAND (a private sandbox's entrypoint)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			code := forwarder.Main(args, os.Stdin, os.Stdout, os.Stderr)
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
}

package main

import (
	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/internal/action"
)

// actionCmdName is the hidden subcommand the action's image starts as its
// entrypoint (`sandbox action`). The image ships this one binary rather
// than a second one for the action, which would carry another copy of
// nearly all of this code; main runs the action before the CLI is set up,
// so the action keeps its own signal handling.
const actionCmdName = "action"

// actionArgs decides what a process started as args (os.Args[1:]) runs:
// the action, or the CLI with cliArgs. The image's entrypoint is `sandbox
// action`, so a container of the image started with arguments, as the
// egress proxy is (`proxy --listen ...`), receives `action proxy
// --listen ...` and must run `sandbox proxy --listen ...`. Only
// `action` alone, as the runner starts the image, is the action.
func actionArgs(args []string) (runAction bool, cliArgs []string) {
	if len(args) == 0 || args[0] != actionCmdName {
		return false, args
	}
	if len(args) == 1 {
		return true, nil
	}
	return false, args[1:]
}

// newActionCmd is listed for completeness (main dispatches to the action
// before cobra runs); it is hidden because only the runner starts it.
func newActionCmd(*streams) *cobra.Command {
	return &cobra.Command{
		Use:    actionCmdName,
		Short:  "Run the GitHub Action (the action image's entrypoint; inputs are INPUT_* variables)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if code := action.Main(); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
}

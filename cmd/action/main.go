// Command action runs the sandbox-action container action outside its
// image (`go run ./cmd/action`); the image runs the same code as
// `sandbox action`. See package action.
package main

import (
	"fmt"
	"os"

	"github.com/org/sandbox-action/internal/action"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintf(os.Stderr, "action: unexpected arguments %q: the action's inputs are INPUT_* environment variables\n", os.Args[1:])
		os.Exit(2)
	}
	os.Exit(action.Main())
}

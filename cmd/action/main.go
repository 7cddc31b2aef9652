// Command action runs the sandbox-action container action outside its
// image (`go run ./cmd/action`); the image runs the same code as
// `sandbox action`. See package action.
package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/org/sandbox-action/internal/action"
)

// sandboxPath is the sandbox CLI in the action's image.
const sandboxPath = "/usr/local/bin/sandbox"

func main() {
	if len(os.Args) > 1 {
		// Started with arguments, this is a sandbox command (the proxy),
		// not the action.
		err := syscall.Exec(sandboxPath, append([]string{sandboxPath}, os.Args[1:]...), os.Environ())
		fmt.Fprintf(os.Stderr, "action: run %s: %v\n", sandboxPath, err)
		os.Exit(127)
	}
	os.Exit(action.Main())
}

// Package e2e tests the sandbox binary as a person or a CI runner uses it:
// built with the Go toolchain, run as a process, sent real signals, on the
// real Docker engine.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/org/sandbox-action/internal/testimage"
)

// sandboxBin is the sandbox binary under test, built once for the package.
var sandboxBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sandbox-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	sandboxBin = filepath.Join(dir, "sandbox")
	if err := testimage.CompileStatic(contextBackground(), "./cmd/sandbox", sandboxBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

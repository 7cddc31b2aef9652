package e2e

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/internal/testimage"
)

// The commands `sandbox cmd` prints are a working recipe: pasted into bash
// they perform the same run, private mode included.
func TestPrintedScriptRuns(t *testing.T) {
	for _, mode := range []string{"public", "private"} {
		t.Run(mode, func(t *testing.T) {
			ws := t.TempDir()
			assert.NilError(t, os.Chmod(ws, 0o777))
			out, err := exec.Command(sandboxBin, "cmd", "--image", testimage.Toolbox(t), "--workspace", ws, "--user", "1000:1000",
				"--network", mode, "--proxy-image", proxyImage(t), "--", "/toolbox", "env").Output()
			assert.NilError(t, err)
			script := string(out)
			id := regexp.MustCompile(`run-id=([0-9a-f]{12})`).FindStringSubmatch(script)[1]

			cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
			got, err := cmd.Output()
			assert.NilError(t, err, "script:\n%s", script)
			assert.Assert(t, strings.Contains(string(got), "HOME=/home/sandbox"), "output: %s", got)
			if mode == "private" {
				assert.Assert(t, strings.Contains(string(got), "SANDBOX_PRIVATE_MODE=true"), "output: %s", got)
			}
			assertNothingLeft(t, id)
		})
	}
}

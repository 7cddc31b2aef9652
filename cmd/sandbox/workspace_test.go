package main

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testimage"
)

// The attack of the Docker socket through the workspace: the socket's
// directory as workspace and its group as the user. Both are refused before
// anything is created, with the path or group named.
func TestRunRefusesAWorkspaceOrUserThatReachesTheDaemon(t *testing.T) {
	fi, err := os.Stat("/var/run/docker.sock")
	assert.NilError(t, err)
	gid := fi.Sys().(*syscall.Stat_t).Gid
	ws := workspace(t)
	image := testimage.Toolbox(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"socket directory", []string{"--workspace", "/var/run", "--user", "1000:1000"}, "workspace /run is a system location"},
		{"proc", []string{"--workspace", "/proc", "--user", "1000:1000"}, "workspace /proc is a system location"},
		{"etc", []string{"--workspace", "/etc", "--user", "1000:1000"}, "workspace /etc is a system location"},
		{"docker group", []string{"--workspace", ws, "--user", fmt.Sprintf("1000:%d", gid)}, fmt.Sprintf("group %d, which owns the Docker socket /var/run/docker.sock", gid)},
		{"root group", []string{"--workspace", ws, "--user", "1000:0"}, "group 0 (root)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"run", "--image", image}, tc.args...), "--", "/toolbox", "echo", "ran")
			code, out, errOut := cli(context.Background(), nil, args...)
			assert.Check(t, is.Equal(code, exitSandboxError), errOut)
			assert.Check(t, is.Equal(out, ""))
			assert.Check(t, is.Contains(errOut, tc.want))
		})
	}

	// Relaxing root allows the group, and says so.
	code, out, errOut := cli(context.Background(), nil, "run", "--image", image, "--workspace", ws,
		"--user", "1000:0", "--relax", "root", "--network", "public", "--", "/toolbox", "id")
	assert.Check(t, is.Equal(code, 0), errOut)
	assert.Check(t, is.Equal(out, "1000:0\n"))
	assert.Check(t, is.Contains(errOut, "root"))
}

// ptrace is refused in the sandbox by default (the seccomp profile) and
// allowed by --relax ptrace, which says so.
func TestPtraceIsRefusedUnlessRelaxed(t *testing.T) {
	ws := workspace(t)
	code, out, errOut := cli(context.Background(), nil, toolboxArgs(t, ws, "--", "/toolbox", "ptrace", "seize", "1")...)
	assert.Check(t, is.Equal(code, 1), "stdout: %s\nstderr: %s", out, errOut)
	assert.Check(t, is.Contains(errOut, "operation not permitted"))

	code, out, errOut = cli(context.Background(), nil, toolboxArgs(t, ws, "--relax", "ptrace", "--", "/toolbox", "ptrace", "seize", "1")...)
	assert.Check(t, is.Equal(code, 0), "stdout: %s\nstderr: %s", out, errOut)
	assert.Check(t, is.Equal(out, "traced 1\n"))
	assert.Check(t, is.Contains(errOut, "processes may ptrace each other"))
}

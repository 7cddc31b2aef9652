package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/pkg/spec"
	is "gotest.tools/v3/assert/cmp"
)

// probe runs one toolbox command in a hardened sandbox under iso and
// returns its output and exit code.
func probe(t *testing.T, e *Engine, iso isolation, args ...string) (string, int) {
	t.Helper()
	s := iso.spec(t, args...)
	var out, errw lineWriter
	res, err := e.Run(context.Background(), spec.Run{Sandbox: s}, RunOptions{Stdout: &out, Stderr: &errw})
	assert.NilError(t, err)
	return strings.TrimSpace(out.String() + errw.String()), res.ExitCode
}

func TestSandboxIsHardenedFromInside(t *testing.T) {
	e, _ := newTestEngine(t)
	eachIsolation(t, func(t *testing.T, iso isolation) {
		for _, tc := range []struct {
			name     string
			args     []string
			wantCode int
			wantOut  string
			// gVisorOut replaces wantOut under gVisor, whose kernel checks
			// file permissions before the read-only mount.
			gVisorOut string
		}{
			{name: "not root", args: []string{"id"}, wantOut: "1000:1000"},
			{name: "no capabilities", args: []string{"caps"}, wantOut: "0000000000000000"},
			{name: "root filesystem read-only", args: []string{"write", "/probe"}, wantCode: 1, wantOut: "read-only file system", gVisorOut: "permission denied"},
			{name: "tmp writable", args: []string{"write", "/tmp/probe"}},
			{name: "home writable", args: []string{"write", "/home/sandbox/probe"}},
			{name: "workspace writable", args: []string{"write", "/workspace/probe"}},
			{name: "workdir is workspace", args: []string{"pwd"}, wantOut: "/workspace"},
			{name: "no docker socket", args: []string{"cat", "/var/run/docker.sock"}, wantCode: 1, wantOut: "no such file"},
			// PID 1 (docker-init) runs as the sandbox user: tracing it
			// would stop it and hang the run until its timeout.
			{name: "no ptrace attach of PID 1", args: []string{"ptrace", "attach", "1"}, wantCode: 1, wantOut: "operation not permitted"},
			{name: "no ptrace seize of PID 1", args: []string{"ptrace", "seize", "1"}, wantCode: 1, wantOut: "operation not permitted"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				want := tc.wantOut
				if iso.runtime != "" && tc.gVisorOut != "" {
					want = tc.gVisorOut
				}
				out, code := probe(t, e, iso, tc.args...)
				assert.Equal(t, code, tc.wantCode, "output: %s", out)
				assert.Check(t, is.Contains(out, want))
			})
		}
	})
}

func TestSandboxIsHardenedByInspect(t *testing.T) {
	e, c := newTestEngine(t)
	eachIsolation(t, func(t *testing.T, iso isolation) { hardenedByInspect(t, e, c, iso) })
}

func hardenedByInspect(t *testing.T, e *Engine, c *client.Client, iso isolation) {
	s := iso.spec(t, "trap")
	out := newLineWriter("ready")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Run(ctx, spec.Run{Sandbox: s}, RunOptions{Stdout: out})
		done <- err
	}()
	out.waitSeen(t, 20e9)
	info, err := c.ContainerInspect(context.Background(), s.Name, client.ContainerInspectOptions{})
	cancel()
	assert.NilError(t, <-done)
	assert.NilError(t, err)

	checkHardened(t, info.Container, "1000:1000")
	assert.Check(t, is.Equal(info.Container.HostConfig.Runtime, iso.inspected()))
	assert.Check(t, is.Len(info.Container.Mounts, 1), "only the workspace is mounted: %+v", info.Container.Mounts)
}

// checkHardened checks every hardening default a container must show in
// docker inspect: user, no privileges, no capabilities, read-only root,
// limits, init, no host namespaces, no docker socket.
func checkHardened(t *testing.T, c container.InspectResponse, user string) {
	t.Helper()
	hc := c.HostConfig
	assert.Check(t, hc.ReadonlyRootfs, "root filesystem is writable")
	assert.Check(t, !hc.Privileged)
	assert.Check(t, is.DeepEqual([]string(hc.CapDrop), []string{"ALL"}))
	assert.Check(t, is.Len(hc.CapAdd, 0))
	assert.Check(t, is.Contains(hc.SecurityOpt, "no-new-privileges"))
	assert.Check(t, hc.Init != nil && *hc.Init, "no init")
	assert.Check(t, hc.Memory > 0 && hc.PidsLimit != nil && *hc.PidsLimit > 0 && hc.NanoCPUs > 0, "missing limits")
	assert.Check(t, !hc.NetworkMode.IsHost() && !hc.PidMode.IsHost() && !hc.IpcMode.IsHost(), "host namespace shared")
	assert.Check(t, is.Equal(c.Config.User, user))
	for _, m := range c.Mounts {
		assert.Check(t, !strings.Contains(m.Source, "docker.sock"), "docker socket mounted: %+v", m)
	}
}

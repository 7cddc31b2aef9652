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

// probe runs one toolbox command in a hardened sandbox and returns its
// output and exit code.
func probe(t *testing.T, e *Engine, args ...string) (string, int) {
	t.Helper()
	s := testSpec(t, args...)
	var out, errw lineWriter
	res, err := e.Run(context.Background(), spec.Run{Sandbox: s}, RunOptions{Stdout: &out, Stderr: &errw})
	assert.NilError(t, err)
	return strings.TrimSpace(out.String() + errw.String()), res.ExitCode
}

func TestSandboxIsHardenedFromInside(t *testing.T) {
	e, _ := newTestEngine(t)
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"not root", []string{"id"}, 0, "1000:1000"},
		{"no capabilities", []string{"caps"}, 0, "0000000000000000"},
		{"root filesystem read-only", []string{"write", "/probe"}, 1, "read-only file system"},
		{"tmp writable", []string{"write", "/tmp/probe"}, 0, ""},
		{"home writable", []string{"write", "/home/sandbox/probe"}, 0, ""},
		{"workspace writable", []string{"write", "/workspace/probe"}, 0, ""},
		{"workdir is workspace", []string{"pwd"}, 0, "/workspace"},
		{"no docker socket", []string{"cat", "/var/run/docker.sock"}, 1, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := probe(t, e, tc.args...)
			assert.Equal(t, code, tc.wantCode, "output: %s", out)
			assert.Check(t, is.Contains(out, tc.wantOut))
		})
	}
}

func TestSandboxIsHardenedByInspect(t *testing.T) {
	e, c := newTestEngine(t)
	s := testSpec(t, "trap")
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

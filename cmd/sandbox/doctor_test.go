package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testimage"
)

func TestDoctor(t *testing.T) {
	image := testimage.Toolbox(t)
	code, out, errOut := cli(context.Background(), nil, "doctor", "--image", image, "--proxy-image", proxyImage(t))
	assert.Equal(t, code, 0, "stdout: %s\nstderr: %s", out, errOut)
	for _, want := range []string{"✓ daemon: Docker ", "Engine API 1.", "✓ image: " + image, "✓ runtimes: ", "runc", "✓ disk: ",
		"✓ network private (the default): the egress proxy runs ",
		// .ci/run registers gVisor (make gvisor), so doctor finds it.
		"✓ gvisor runtime: runsc (/usr/bin/runsc --network=none --host-uds=open --oci-seccomp): suits private; ",
		"✓ gvisor runtime: runsc-host (/usr/bin/runsc --network=host --host-uds=open --oci-seccomp): suits public, private; proxy transports: host and container\n",
		"✓ --type gvisor, network public: runs under runsc-host\n",
		"✓ --type gvisor, network private: runs under runsc\n",
	} {
		assert.Check(t, is.Contains(out, want))
	}

	// In-process this test binary is dynamically linked (-race needs cgo),
	// so the proxy would run in a container, from an image that is absent.
	inContainer := strings.Contains(out, "the egress proxy runs in a container")
	code, out, _ = cli(context.Background(), nil, "doctor", "--image", "sandbox-action-test/absent:1", "--proxy-image", "sandbox-action-test/absent:1")
	assert.Equal(t, code, 1)
	assert.Check(t, is.Contains(out, "✗ image: "))
	assert.Check(t, is.Contains(out, "docker load"))
	if inContainer {
		assert.Check(t, is.Contains(out, "✗ network private (the default): the egress proxy runs in a container"))
		assert.Check(t, is.Contains(out, "which is not present: build it (make image) or load it, or pass --proxy-image; or opt out of private mode with --network public"))
	}

	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	code, out, _ = cli(context.Background(), nil, "doctor")
	assert.Equal(t, code, 1)
	assert.Check(t, is.Contains(out, "✗ daemon: "))
	assert.Check(t, is.Contains(out, "not reachable"))
}

func TestPsListsAKeptRunAndGCRemovesIt(t *testing.T) {
	ws := workspace(t)
	code, _, errOut := cli(context.Background(), nil, toolboxArgs(t, ws, "--rm=false", "--", "/toolbox", "echo")...)
	assert.Equal(t, code, 0, errOut)
	id := runIDLine.FindStringSubmatch(errOut)[1]

	code, out, _ := cli(context.Background(), nil, "ps")
	assert.Equal(t, code, 0)
	assert.Check(t, is.Regexp(id+` +container +sandbox-`+id+` +sandbox +exited .* `+regexpQuote(ws), out))

	code, out, errOut = cli(context.Background(), nil, "gc", "--run", id)
	assert.Equal(t, code, 0, errOut)
	assert.Check(t, is.Equal(out, "removed container sandbox-"+id+" (run "+id+")\n"))
	code, out, _ = cli(context.Background(), nil, "gc", "--run", id)
	assert.Equal(t, code, 0)
	assert.Check(t, is.Equal(out, "nothing to remove\n"))
}

// --type gvisor runs the agent on gVisor's kernel, which tells itself apart
// in /proc/version (runsc reports a fixed Linux 4.4.0, not the host's).
func TestRunTypeGVisor(t *testing.T) {
	ws := workspace(t)
	code, out, errOut := cli(context.Background(), nil, toolboxArgs(t, ws, "--type", "gvisor", "--", "/toolbox", "cat", "/proc/version")...)
	assert.Equal(t, code, 0, errOut)
	assert.Check(t, is.Contains(errOut, "type=gvisor (from flag)"))
	assert.Check(t, is.Contains(errOut, "runtime=runsc-host (from type gvisor)"))
	assert.Check(t, is.Contains(out, "Linux version 4.4.0"))

	code, out, _ = cli(context.Background(), nil, toolboxArgs(t, ws, "--", "/toolbox", "cat", "/proc/version")...)
	assert.Equal(t, code, 0)
	assert.Check(t, !strings.Contains(out, "Linux version 4.4.0"), "runc run reports gVisor's kernel: %s", out)
}

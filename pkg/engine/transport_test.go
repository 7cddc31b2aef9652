package engine

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/gvisor"
	"github.com/org/sandbox-action/pkg/spec"
)

func TestTransportChoice(t *testing.T) {
	local := TransportFacts{ClientOS: "linux", DaemonOS: "linux", DaemonArch: "x86_64", OperatingSystem: "Debian GNU/Linux 12 (bookworm)",
		BinaryArch: "amd64", BinaryStatic: true}
	with := func(f func(*TransportFacts)) TransportFacts {
		c := local
		f(&c)
		return c
	}
	onRuntime := func(name, path string, args ...string) TransportFacts {
		return with(func(f *TransportFacts) { f.Runtime = gvisor.Runtime{Name: name, Path: path, Args: args} })
	}
	const noSockets = "cannot reach the egress proxy on either transport: --host-uds=none does not let the sandbox connect to host unix sockets (needs open or all)"
	for _, tc := range []struct {
		name  string
		facts TransportFacts
		// want is Choose's transport, or its error when wantErr is set.
		want, wantErr string
		// hostErr is what Check says of the host transport ("" when it
		// can serve the run); Check of the container transport says
		// wantErr.
		hostErr string
	}{
		{name: "local daemon", facts: local, want: spec.TransportHost},
		{name: "local socket named", facts: with(func(f *TransportFacts) { f.DockerHost = "unix:///run/user/1000/docker.sock" }), want: spec.TransportHost},
		{name: "remote daemon", facts: with(func(f *TransportFacts) { f.DockerHost = "tcp://10.0.0.5:2376" }),
			want: spec.TransportContainer, hostErr: "the daemon is remote (DOCKER_HOST=tcp://10.0.0.5:2376)"},
		{name: "macOS client", facts: with(func(f *TransportFacts) { f.ClientOS = "darwin" }),
			want: spec.TransportContainer, hostErr: "the daemon does not share this darwin machine"},
		{name: "Docker Desktop", facts: with(func(f *TransportFacts) { f.OperatingSystem = "Docker Desktop" }),
			want: spec.TransportContainer, hostErr: "Docker Desktop runs the daemon in a VM"},
		{name: "another architecture", facts: with(func(f *TransportFacts) { f.DaemonArch = "aarch64" }),
			want: spec.TransportContainer, hostErr: "this binary is amd64, the daemon's host arm64"},
		{name: "dynamic binary", facts: with(func(f *TransportFacts) { f.BinaryStatic = false }),
			want: spec.TransportContainer, hostErr: "this binary is dynamically linked and cannot run inside a sandbox image"},
		{name: "as root for the sandbox's user", facts: with(func(f *TransportFacts) { f.SandboxUser = "1000:1000" }), want: spec.TransportHost},
		{name: "as the sandbox's own user", facts: with(func(f *TransportFacts) { f.ProcessUID, f.SandboxUser = 1000, "1000:1000" }), want: spec.TransportHost},
		// Only root can make a socket another user's alone.
		{name: "as another user than the sandbox's", facts: with(func(f *TransportFacts) { f.ProcessUID, f.SandboxUser = 1001, "1000:1000" }),
			want: spec.TransportContainer, hostErr: "the sandbox runs as uid 1000, and this process, uid 1001 and not root, cannot make a host socket that user's alone"},
		{name: "as a user, the sandbox's unknown", facts: with(func(f *TransportFacts) { f.ProcessUID = 1001 }), want: spec.TransportHost},
		{name: "runc by name", facts: onRuntime("runc", "runc"), want: spec.TransportHost},
		{name: "gVisor that may connect to host sockets", facts: onRuntime("runsc", "/usr/bin/runsc", "--network=none", "--host-uds=open"), want: spec.TransportHost},
		{name: "gVisor on a remote daemon", facts: with(func(f *TransportFacts) {
			f.DockerHost = "tcp://10.0.0.5:2376"
			f.Runtime = gvisor.Runtime{Name: "runsc", Path: "/usr/bin/runsc", Args: []string{"--host-uds=all"}}
		}), want: spec.TransportContainer, hostErr: "the daemon is remote (DOCKER_HOST=tcp://10.0.0.5:2376)"},
		// Without --host-uds, gVisor refuses a connect to the container
		// transport's volume as to the host's directory: no transport.
		{name: "gVisor without host sockets", facts: onRuntime("runsc", "/usr/bin/runsc", "--network=none"),
			wantErr: "runtime runsc (/usr/bin/runsc --network=none) " + noSockets},
		{name: "gVisor by another name", facts: onRuntime("runsc-host", "/opt/gvisor/runsc", "--network=host"),
			wantErr: "runtime runsc-host (/opt/gvisor/runsc --network=host) " + noSockets},
		{name: "gVisor that may only create host sockets", facts: onRuntime("sandboxed", "/usr/local/bin/runsc", "--host-uds=create"),
			wantErr: "runtime sandboxed (/usr/local/bin/runsc --host-uds=create) cannot reach the egress proxy on either transport: --host-uds=create"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.facts.Choose()
			if tc.wantErr != "" {
				assert.Check(t, is.ErrorContains(err, tc.wantErr))
				assert.Check(t, is.ErrorContains(tc.facts.Check(spec.TransportHost), tc.wantErr))
				assert.Check(t, is.ErrorContains(tc.facts.Check(spec.TransportContainer), tc.wantErr))
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.Equal(got.Name, tc.want))
			assert.Check(t, is.Nil(tc.facts.Check(spec.TransportContainer)))
			if tc.hostErr == "" {
				assert.Check(t, is.Equal(got.Reason, "the daemon is local"))
				assert.Check(t, is.Nil(tc.facts.Check(spec.TransportHost)))
			} else {
				// The summary's reason is why the host transport cannot.
				assert.Check(t, is.Equal(got.Reason, tc.hostErr))
				assert.Check(t, is.Error(tc.facts.Check(spec.TransportHost), tc.hostErr))
			}
		})
	}
	assert.Check(t, is.Error(local.Check("vsock"), `unknown proxy transport "vsock" (want host or container)`))
}

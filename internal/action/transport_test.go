package action

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/gvisor"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

func TestTheActionChoosesItsProxyTransportInOnePlace(t *testing.T) {
	local := engine.TransportFacts{ClientOS: "linux", DaemonOS: "linux", DaemonArch: "x86_64", OperatingSystem: "Ubuntu 24.04 LTS", BinaryArch: "amd64", BinaryStatic: true}
	remote := local
	remote.DockerHost = "tcp://10.0.0.5:2376"
	arm := local
	arm.DaemonArch = "aarch64"
	// gVisor that may not connect to host sockets reaches no proxy.
	closedGVisor := local
	closedGVisor.Runtime = gvisor.Runtime{Name: "runsc", Path: "/usr/bin/runsc"}
	inRunner := self{paths: runnerMounts, inContainer: true}
	noHome := self{paths: runnerMounts[:1], inContainer: true}
	const bin = "/usr/local/bin/sandbox"
	for _, tc := range []struct {
		name    string
		forced  string
		facts   engine.TransportFacts
		self    self
		want    plan.Egress
		wantErr string
	}{
		{name: "a runner's container: sockets under the host's _github_home", facts: local, self: inRunner, want: plan.Egress{
			Transport: spec.TransportHost, Reason: "the daemon is local; sockets under $HOME, /home/runner/work/_temp/_github_home on the host",
			Dir: "/github/home", HostDir: "/home/runner/work/_temp/_github_home", Binary: bin, CopyForwarder: true,
		}},
		{name: "a remote daemon", facts: remote, self: inRunner, want: plan.Egress{
			Transport: spec.TransportContainer, Reason: "the daemon is remote (DOCKER_HOST=tcp://10.0.0.5:2376)",
		}},
		{name: "another architecture", facts: arm, self: inRunner, want: plan.Egress{
			Transport: spec.TransportContainer, Reason: "this binary is amd64, the daemon's host arm64",
		}},
		{name: "$HOME not mounted from the host", facts: local, self: noHome, want: plan.Egress{
			Transport: spec.TransportContainer, Reason: "$HOME (/github/home) is not a mount from the Docker host",
		}},
		{name: "not in a container", facts: local, want: plan.Egress{
			Transport: spec.TransportContainer, Reason: "the action does not run in a container of this daemon",
		}},
		{name: "forced container", forced: spec.TransportContainer, facts: local, self: inRunner, want: plan.Egress{
			Transport: spec.TransportContainer, Reason: "the proxy-transport input",
		}},
		{name: "forced host despite the facts", forced: spec.TransportHost, facts: arm, self: inRunner, want: plan.Egress{
			Transport: spec.TransportHost, Reason: "the proxy-transport input; sockets under $HOME, /home/runner/work/_temp/_github_home on the host",
			Dir: "/github/home", HostDir: "/home/runner/work/_temp/_github_home", Binary: bin, CopyForwarder: true,
		}},
		{name: "forced host outside a container: the binary is the host's", forced: spec.TransportHost, facts: local, want: plan.Egress{
			Transport: spec.TransportHost, Reason: "the proxy-transport input", Dir: "/github/home", Binary: bin,
		}},
		{name: "forced host without a home the host sees", forced: spec.TransportHost, facts: local, self: noHome,
			wantErr: "proxy-transport host: the socket directory's parent $HOME: /github/home is not on a mount"},
		{name: "gVisor without host sockets", facts: closedGVisor, self: inRunner, wantErr: "cannot reach the egress proxy on either transport"},
		{name: "gVisor without host sockets, forced container", forced: spec.TransportContainer, facts: closedGVisor, self: inRunner,
			wantErr: "proxy-transport container: runtime runsc (/usr/bin/runsc) cannot reach the egress proxy"},
		{name: "an unknown transport", forced: "vm", facts: local, self: inRunner, wantErr: `proxy-transport "vm"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := egressChoice{forced: tc.forced, self: tc.self, home: "/github/home", binary: bin}.choose(tc.facts)
			if tc.wantErr != "" {
				assert.Check(t, is.ErrorContains(err, tc.wantErr))
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.DeepEqual(got, tc.want))
		})
	}
}

package spec

import (
	"slices"
	"strconv"

	"github.com/moby/moby/api/types/mount"

	"github.com/org/sandbox-action/pkg/forwarder"
)

// Paths and ports inside a sandbox that reaches the run's egress proxy.
const (
	// SocketDir is where the run's socket directory is mounted, read-only:
	// the directory, not the socket files, so a restarted proxy is reached.
	SocketDir = "/run/sandbox"
	// ForwarderPath is where the forwarder binary is mounted read-only when
	// it is not in the socket directory.
	ForwarderPath = "/run/sandbox-forward"
	// ForwarderInDir is the forwarder binary's name inside the socket
	// directory, when it was copied there.
	ForwarderInDir = "forward"
	// ProxySocket and GatewaySocket are the socket files' names.
	ProxySocket   = "proxy.sock"
	GatewaySocket = "gateway.sock"
	// ProxyPort and GatewayPort are the loopback ports the forwarder serves
	// inside the sandbox; with --network none nothing else can own them.
	ProxyPort   = 3128
	GatewayPort = 8080
)

// Loopback addresses the sandbox's variables name.
var (
	// ProxyURL is HTTP(S)_PROXY in a private sandbox.
	ProxyURL = "http://127.0.0.1:" + strconv.Itoa(ProxyPort)
	// GatewayURL is the credential gateway's origin in any sandbox that has
	// one; the agents' base-URL variables start with it.
	GatewayURL = "http://127.0.0.1:" + strconv.Itoa(GatewayPort)
)

// Egress is how a container reaches the run's egress proxy and credential
// gateway: a directory of unix sockets (a host directory, or the run's
// volume when the proxy runs in a container) and, in the sandbox, the
// forwarder as entrypoint, which relays loopback ports to those sockets and
// then runs the image's own ENTRYPOINT and command.
type Egress struct {
	// Source is the socket directory's host path, or with Volume the name
	// of the run's volume.
	Source string
	Volume bool
	// Forwarder is the host path of the static `sandbox` binary, mounted
	// read-only at ForwarderPath; empty when the binary is ForwarderInDir
	// in the socket directory.
	Forwarder string
	// Proxy and Gateway say which sockets the sandbox uses: a private
	// sandbox has the proxy, and the gateway when an agent's key is
	// fronted; a public one only ever the gateway.
	Proxy, Gateway bool
	// Entrypoint and ImageCmd are the image's ENTRYPOINT and CMD, read from
	// the image: docker's --entrypoint replaces both, so the forwarder runs
	// them itself (CMD only when the run gives no command).
	Entrypoint []string
	ImageCmd   []string
}

// routes are the forwarder's routes for e.
func (e Egress) routes() []forwarder.Route {
	var rs []forwarder.Route
	if e.Proxy {
		rs = append(rs, forwarder.Route{Port: ProxyPort, Socket: SocketDir + "/" + ProxySocket})
	}
	if e.Gateway {
		rs = append(rs, forwarder.Route{Port: GatewayPort, Socket: SocketDir + "/" + GatewaySocket})
	}
	return rs
}

// forwarderPath is the forwarder binary inside the sandbox.
func (e Egress) forwarderPath() string {
	if e.Forwarder == "" {
		return SocketDir + "/" + ForwarderInDir
	}
	return ForwarderPath
}

// forwarded reports whether s starts under the forwarder.
func (s RunSpec) forwarded() bool { return s.Egress != nil && s.role() == RoleSandbox }

// argv is what follows the image in docker run: the forwarder's arguments
// and the command it runs, or Command.
func (s RunSpec) argv() []string {
	if !s.forwarded() {
		return s.Command
	}
	e := s.Egress
	run := s.Command
	if len(run) == 0 {
		run = e.ImageCmd
	}
	return append([]string{"forward"}, forwarder.Args(e.routes(), slices.Concat(e.Entrypoint, run))...)
}

// networkNone is docker's network without interfaces but loopback.
const networkNone = "none"

// egressOptions mount the socket directory (read-only in the sandbox, which
// must not replace a socket with its own) and, in the sandbox, make the
// forwarder the entrypoint.
func (s RunSpec) egressOptions(e Egress) []option {
	var opts []option
	add := func(flag, value string, apply func(*request)) {
		opts = append(opts, option{flag: flag, value: value, apply: apply})
	}
	ro := s.role() == RoleSandbox
	addMount := func(m mount.Mount) {
		add("--mount", mountValue(m), func(r *request) { r.host.Mounts = append(r.host.Mounts, m) })
	}
	dir := mount.Mount{Type: mount.TypeBind, Source: e.Source, Target: SocketDir, ReadOnly: ro}
	if e.Volume {
		dir.Type = mount.TypeVolume
		// DriverConfig as docker run sends it, so inspect shows the same.
		dir.VolumeOptions = &mount.VolumeOptions{Labels: s.volumeLabels(), DriverConfig: &mount.Driver{}}
		// The sandbox's image must not copy its own files into the run's
		// volume.
		dir.VolumeOptions.NoCopy = ro
	}
	addMount(dir)
	if !s.forwarded() {
		return opts
	}
	if e.Forwarder != "" {
		addMount(mount.Mount{Type: mount.TypeBind, Source: e.Forwarder, Target: ForwarderPath, ReadOnly: true})
	}
	path := e.forwarderPath()
	add("--entrypoint", path, func(r *request) { r.config.Entrypoint = []string{path} })
	return opts
}

package gvisor

import (
	"path/filepath"
	"slices"
	"strings"
)

// Runtime is an OCI runtime registered with the daemon, as `docker info`
// reports it and daemon.json declares it. It may be any runtime, not only
// gVisor's.
type Runtime struct {
	Name string
	Path string
	Args []string
}

// IsGVisor reports whether r runs runsc: by the executable's name, or by the
// runtime's name when the daemon reports no path.
func (r Runtime) IsGVisor() bool {
	p := r.Path
	if p == "" {
		p = r.Name
	}
	return filepath.Base(p) == "runsc"
}

// String renders r as the command line the daemon runs, e.g.
// "runsc (/usr/bin/runsc --network=none --host-uds=open)".
func (r Runtime) String() string {
	return r.Name + " (" + strings.Join(append([]string{r.Path}, r.Args...), " ") + ")"
}

// The runtimes this project registers. runsc's own network stack (its
// default, --network=sandbox) does not start on every host: on VMs whose
// Docker runs without a separate network namespace per container it fails
// with "cannot run with network enabled in root network namespace". Both
// registrations therefore avoid it, and choose by what the sandbox needs:
const (
	// Isolated runs with --network=none: the sandbox has gVisor's loopback
	// and nothing else, and no network system call reaches the host
	// kernel's network stack. It suits sandboxes without a network (private
	// mode, whose only way out is the host unix sockets).
	Isolated = "runsc"
	// Bridged runs with --network=host: runsc passes network system calls to
	// the network namespace Docker gave the container (the default bridge),
	// so the sandbox is reachable and reaches out as with runc. It suits
	// public mode.
	Bridged = "runsc-host"
)

// DefaultPath is where Debian's runsc package installs the binary.
const DefaultPath = "/usr/bin/runsc"

// Recommended returns the runtimes this project registers, for the runsc
// binary at path. Both may connect to host unix sockets (--host-uds=open):
// the egress proxy and the credential gateway are reached through them.
// Neither may create host sockets. Both apply the container's seccomp
// profile inside gVisor too (--oci-seccomp; runsc ignores it otherwise), so
// what the profile refuses is refused under either runtime.
func Recommended(path string) []Runtime {
	return []Runtime{
		{Name: Isolated, Path: path, Args: []string{"--network=none", "--host-uds=open", "--oci-seccomp"}},
		{Name: Bridged, Path: path, Args: []string{"--network=host", "--host-uds=open", "--oci-seccomp"}},
	}
}

// Sorted returns rs sorted by name.
func Sorted(rs []Runtime) []Runtime {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b Runtime) int { return strings.Compare(a.Name, b.Name) })
	return rs
}

package gvisor

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Need is what a sandbox asks of its runtime.
type Need struct {
	// Network is set when the sandbox joins a Docker network (the default
	// bridge) and talks over it.
	Network bool
	// Sockets is set when the sandbox connects to unix sockets bind-mounted
	// from the host (the egress proxy's and the credential gateway's).
	Sockets bool
}

func (n Need) String() string {
	s := "a sandbox without a network"
	if n.Network {
		s = "a sandbox on a Docker network"
	}
	if n.Sockets {
		s += " that connects to host unix sockets"
	}
	return s
}

// Problems lists why a runtime run with flags f cannot serve n; none means
// it suits.
func (f Flags) Problems(n Need) []string {
	var ps []string
	switch f.Network {
	case NetworkNone:
		if n.Network {
			ps = append(ps, "--network=none gives the sandbox loopback only, not the Docker network it joins")
		}
	case NetworkHost, NetworkSandbox:
	default:
		ps = append(ps, fmt.Sprintf("--network=%s is not a runsc network (sandbox, host, none)", f.Network))
	}
	if n.Sockets && !f.canConnect() {
		ps = append(ps, fmt.Sprintf("--host-uds=%s does not let the sandbox connect to host unix sockets (needs open or all)", f.HostUDS))
	}
	return ps
}

// Caveat is what to know about a runtime that suits: runsc's own network
// stack does not start on every host.
func (f Flags) Caveat() string {
	if f.Network == NetworkSandbox {
		return "runsc's own network stack (--network=sandbox, the default) fails on some hosts with \"cannot run with network enabled in root network namespace\"; if it does here, register it with --network=host or --network=none"
	}
	return ""
}

// rank orders suitable runtimes, best first: no network at all, then the
// container's namespace (known to work everywhere), then runsc's own
// stack; connecting to host sockets without also creating them; then the
// names this project registers.
func rank(r Runtime) []int {
	f := ParseFlags(r.Args)
	net := map[string]int{NetworkNone: 0, NetworkHost: 1, NetworkSandbox: 2}[f.Network]
	uds := 0
	if f.HostUDS == UDSAll {
		uds = 1
	}
	ours := 1
	if r.Name == Isolated || r.Name == Bridged {
		ours = 0
	}
	return []int{net, uds, ours}
}

// Pick chooses the registered gVisor runtime that best serves n, or
// explains why none does and what to register.
func Pick(registered []Runtime, n Need) (Runtime, error) {
	var suitable []Runtime
	for _, r := range registered {
		if r.IsGVisor() && len(ParseFlags(r.Args).Problems(n)) == 0 {
			suitable = append(suitable, r)
		}
	}
	if len(suitable) == 0 {
		return Runtime{}, &NoSuitableError{Need: n, Registered: registered}
	}
	slices.SortStableFunc(suitable, func(a, b Runtime) int {
		return cmp.Or(slices.Compare(rank(a), rank(b)), strings.Compare(a.Name, b.Name))
	})
	return suitable[0], nil
}

// Suggest is the registration that serves n: one of Recommended, with the
// runsc path of a gVisor runtime already registered when there is one.
func Suggest(registered []Runtime, n Need) Runtime {
	path := DefaultPath
	for _, r := range Sorted(registered) {
		if r.IsGVisor() && r.Path != "" {
			path = r.Path
			break
		}
	}
	name := Isolated
	if n.Network {
		name = Bridged
	}
	for _, r := range Recommended(path) {
		if r.Name == name {
			return r
		}
	}
	panic("gvisor: no recommended runtime named " + name)
}

// NoSuitableError says that no registered gVisor runtime serves a sandbox,
// why each one does not, and the daemon.json lines that would fix it.
type NoSuitableError struct {
	Need       Need
	Registered []Runtime
}

func (e *NoSuitableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no registered gVisor runtime suits %s", e.Need)
	var have []string
	for _, r := range Sorted(e.Registered) {
		if r.IsGVisor() {
			have = append(have, fmt.Sprintf("%s: %s", r, strings.Join(ParseFlags(r.Args).Problems(e.Need), "; ")))
		}
	}
	if len(have) == 0 {
		b.WriteString(" (this Docker daemon has none)")
	} else {
		b.WriteString(" (" + strings.Join(have, "; ") + ")")
	}
	add := Suggest(e.Registered, e.Need)
	snippet, _, err := Merge(nil, []Runtime{add})
	if err != nil {
		panic("gvisor: cannot render a runtime: " + err.Error())
	}
	fmt.Fprintf(&b, "; install gVisor if it is not (Debian: apt-get install runsc) and add to /etc/docker/daemon.json, merged with what is there:\n%s"+
		"then reload the daemon (kill -HUP $(cat /var/run/docker.pid)), or run `make gvisor` in the sandbox-action source tree",
		snippet)
	return b.String()
}

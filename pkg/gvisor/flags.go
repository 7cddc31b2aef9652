package gvisor

import (
	"strconv"
	"strings"
)

// Network values of runsc's --network flag.
const (
	NetworkSandbox = "sandbox" // runsc's own network stack (its default)
	NetworkHost    = "host"    // the container's network namespace, through the host kernel
	NetworkNone    = "none"    // loopback only
)

// Host unix socket permissions of runsc's --host-uds flag.
const (
	UDSNone   = "none" // the default: host sockets cannot be used
	UDSOpen   = "open" // connect to sockets that exist on the host
	UDSCreate = "create"
	UDSAll    = "all"
)

// Flags are the runsc options that decide what a sandbox can do; the rest
// of a runtime's arguments are kept but do not matter here.
type Flags struct {
	Network string
	HostUDS string
}

// ParseFlags reads runsc's global flags from a runtime's arguments. runsc
// uses Go's flag package: one or two dashes, and a value after "=" or as the
// next argument. Flags it does not set keep runsc's defaults.
func ParseFlags(args []string) Flags {
	f := Flags{Network: NetworkSandbox, HostUDS: UDSNone}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") {
			continue
		}
		next := func() string {
			if hasValue {
				return value
			}
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch name {
		case "network":
			f.Network = next()
		case "host-uds":
			f.HostUDS = next()
		case "fsgofer-host-uds":
			// The older spelling of --host-uds=all, a boolean flag.
			on := true
			if hasValue {
				on, _ = strconv.ParseBool(value)
			}
			if on {
				f.HostUDS = UDSAll
			}
		}
	}
	return f
}

// canConnect reports whether the sandbox may connect to host unix sockets.
func (f Flags) canConnect() bool { return f.HostUDS == UDSOpen || f.HostUDS == UDSAll }

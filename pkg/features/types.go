package features

import (
	"fmt"
	"slices"
	"strings"

	"github.com/org/sandbox-action/pkg/gvisor"
	"github.com/org/sandbox-action/pkg/spec"
)

// Type is a sandbox type: a named isolation level. It owns the OCI runtime,
// so the type recorded on a container always tells how it was isolated.
type Type struct {
	Name        string
	Description string
	// Runtime is the OCI runtime; empty means the daemon's default (runc on
	// a stock Docker).
	Runtime string
	// GVisor makes the runtime one of the daemon's gVisor runtimes, the
	// one that suits the run (Resolved.Fit); Runtime is then the name used
	// when the daemon is not asked.
	GVisor bool
	// PidsOverhead is added to the pids limit: the runtime's own threads
	// count against it. gVisor's Sentry and Gofer run inside the
	// container's cgroup, so a limit meant for the agent alone would make
	// them fail to start a thread (runsc then exits 2).
	PidsOverhead int64
	// Settings are options the type needs; flags, config and bundles may
	// override them.
	Settings Settings
}

// DefaultType is the type used when neither flag nor config chooses one.
const DefaultType = "standard"

// Types returns the sandbox types, sorted by name. Each call returns fresh
// values.
func Types() []Type {
	return []Type{
		{
			Name: GVisorType,
			Description: "gVisor (runtime runsc): a user-space kernel answers the agent's system calls, " +
				"a second isolation boundary around the hardened container",
			Runtime: gvisor.Isolated,
			GVisor:  true,
			// Measured: an idle runsc sandbox holds 60 threads in the
			// container's pids cgroup before the agent starts one.
			PidsOverhead: 128,
		},
		{
			Name: DefaultType,
			Description: "the daemon's default runtime (runc) with every hardening default: " +
				"non-root, no capabilities, no-new-privileges, read-only root, init, resource limits",
		},
	}
}

// TypeNames lists the valid type names, sorted.
func TypeNames() []string { return builtin().typeNames() }

// LookupType finds a type by name; an unknown name is an error listing the
// valid ones.
func LookupType(name string) (Type, error) { return builtin().lookupType(name) }

// GVisorType is the sandbox type that runs under gVisor.
const GVisorType = "gvisor"

// RuntimeNeed is what a sandbox in network mode m asks of a gVisor runtime;
// gateway is set when it reaches the credential gateway (any agent run).
// It is the one place that knows how each mode reaches the outside world.
func RuntimeNeed(m spec.NetworkMode, gateway bool) gvisor.Need {
	switch m {
	case spec.Private:
		// A private sandbox has no network (--network none) and reaches
		// the egress proxy through unix sockets mounted from the host.
		return gvisor.Need{Sockets: true}
	default:
		// A public sandbox joins the default bridge; an agent's model API
		// is still behind the gateway's socket, mounted from the host.
		return gvisor.Need{Network: true, Sockets: gateway}
	}
}

// fitRuntime checks the type's runtime against the daemon's. A gVisor type
// takes the registered gVisor runtime that best suits the run's network
// (see gvisor.Pick); any other runtime must be registered by its name.
func (r *Resolved) fitRuntime(registered []gvisor.Runtime) error {
	t := r.Type
	if t.GVisor {
		picked, err := gvisor.Pick(registered, RuntimeNeed(r.Network, r.Gateway))
		if err != nil {
			err = fmt.Errorf("sandbox type %q (network %s, %s): %w; or choose --type %s", t.Name, r.Network, r.Source(KeyNetwork).Phrase(), err, DefaultType)
			if public, perr := gvisor.Pick(registered, RuntimeNeed(spec.Public, r.Gateway)); r.Network == spec.Private && perr == nil {
				// A runtime for the bridge is there: opting out of
				// private mode is the other way to run under gVisor.
				err = fmt.Errorf("%w, or opt out of private mode with --network public (it runs under %s)", err, public.Name)
			}
			return err
		}
		r.Type.Runtime = picked.Name
		return nil
	}
	if t.Runtime == "" || slices.ContainsFunc(registered, func(rt gvisor.Runtime) bool { return rt.Name == t.Runtime }) {
		return nil
	}
	have := "none"
	if len(registered) > 0 {
		names := make([]string, len(registered))
		for i, rt := range gvisor.Sorted(registered) {
			names[i] = rt.Name
		}
		have = strings.Join(names, ", ")
	}
	return fmt.Errorf("sandbox type %q needs the %q runtime, which this Docker daemon does not have (available: %s); install it or choose --type %s",
		t.Name, t.Runtime, have, DefaultType)
}

package features

import (
	"fmt"
	"slices"
	"strings"
)

// Type is a sandbox type: a named isolation level. It owns the OCI runtime,
// so the type recorded on a container always tells how it was isolated.
type Type struct {
	Name        string
	Description string
	// Runtime is the OCI runtime; empty means the daemon's default (runc on
	// a stock Docker).
	Runtime string
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
			Name: "gvisor",
			Description: "gVisor (runtime runsc): a user-space kernel answers the agent's system calls, " +
				"a second isolation boundary around the hardened container",
			Runtime: "runsc",
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

// CheckRuntime reports whether the daemon can run a sandbox type. available
// are the runtime names the daemon reports (the keys of `docker info`
// Runtimes).
func CheckRuntime(typeName string, available []string) error {
	t, err := builtin().lookupType(typeName)
	if err != nil {
		return err
	}
	if t.Runtime == "" || slices.Contains(available, t.Runtime) {
		return nil
	}
	have := "none"
	if len(available) > 0 {
		have = strings.Join(slices.Sorted(slices.Values(available)), ", ")
	}
	return fmt.Errorf("sandbox type %q needs the %q runtime, which this Docker daemon does not have (available: %s); install %s or choose --type %s",
		t.Name, t.Runtime, have, runtimeProject(t.Runtime), DefaultType)
}

// runtimeProject names what to install for a runtime.
func runtimeProject(runtime string) string {
	if runtime == "runsc" {
		return "gVisor"
	}
	return runtime
}

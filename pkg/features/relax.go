package features

import (
	"fmt"
	"strings"

	"github.com/org/sandbox-action/pkg/spec"
)

// Relax is the layer form of spec.Relax: each hardening default a layer
// explicitly gives up (true) or explicitly keeps (false); nil leaves the
// choice to weaker layers.
type Relax struct {
	Root          *bool
	WritableRoot  *bool
	NewPrivileges *bool
	Capabilities  *bool
	NoInit        *bool
	Ptrace        *bool
}

// relaxation ties one hardening default to its name (the config key under
// relax: and the value of a --relax flag) and what giving it up means.
type relaxation struct {
	name   string
	effect string
	opt    func(*Relax) **bool
	val    func(*spec.Relax) *bool
}

var relaxations = []relaxation{
	{"root", "the container may run as root",
		func(r *Relax) **bool { return &r.Root }, func(r *spec.Relax) *bool { return &r.Root }},
	{"writable_root", "the root filesystem is writable",
		func(r *Relax) **bool { return &r.WritableRoot }, func(r *spec.Relax) *bool { return &r.WritableRoot }},
	{"new_privileges", "processes may gain privileges (no no-new-privileges)",
		func(r *Relax) **bool { return &r.NewPrivileges }, func(r *spec.Relax) *bool { return &r.NewPrivileges }},
	{"capabilities", "the image's default capabilities are kept",
		func(r *Relax) **bool { return &r.Capabilities }, func(r *spec.Relax) *bool { return &r.Capabilities }},
	{"no_init", "the command runs as PID 1 without an init process",
		func(r *Relax) **bool { return &r.NoInit }, func(r *spec.Relax) *bool { return &r.NoInit }},
	{"ptrace", "processes may ptrace each other, PID 1 included (Docker's default seccomp profile)",
		func(r *Relax) **bool { return &r.Ptrace }, func(r *spec.Relax) *bool { return &r.Ptrace }},
}

// RelaxNames lists the names ParseRelax accepts.
func RelaxNames() []string {
	names := make([]string, len(relaxations))
	for i, x := range relaxations {
		names[i] = x.name
	}
	return names
}

// ParseRelax turns names of hardening defaults (as given to a repeated
// --relax flag; "writable-root" and "writable_root" are the same) into a
// layer that gives each of them up.
func ParseRelax(names []string) (Relax, error) {
	var r Relax
	for _, name := range names {
		x, ok := lookupRelaxation(strings.ReplaceAll(name, "-", "_"))
		if !ok {
			return Relax{}, fmt.Errorf("unknown hardening default %q (valid: %s)", name, strings.Join(RelaxNames(), ", "))
		}
		*x.opt(&r) = new(true)
	}
	return r, nil
}

func lookupRelaxation(name string) (relaxation, bool) {
	for _, x := range relaxations {
		if x.name == name {
			return x, true
		}
	}
	return relaxation{}, false
}

// Relaxation is one hardening default a resolved run gives up.
type Relaxation struct {
	// Name is the relax key, e.g. "writable_root".
	Name string
	// Effect says in words what is given up.
	Effect string
	// Source is the layer that asked for it.
	Source Source
}

// String renders the relaxation for a log line:
// "relax writable_root: the root filesystem is writable (from config .github/sandbox.yml)".
func (x Relaxation) String() string {
	return fmt.Sprintf("relax %s: %s (%s)", x.Name, x.Effect, x.Source.Phrase())
}

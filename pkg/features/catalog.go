package features

import (
	"fmt"
	"slices"
	"strings"
)

// catalog is what the resolver chooses from. The package works on the
// built-in one; tests build their own so that they prove the precedence
// rules rather than restate today's built-in values.
type catalog struct {
	defaults Settings
	types    []Type
	bundles  []Bundle
}

func builtin() catalog {
	return catalog{defaults: Defaults(), types: Types(), bundles: Bundles()}
}

func (c catalog) typeNames() []string {
	ns := make([]string, len(c.types))
	for i, t := range c.types {
		ns[i] = t.Name
	}
	slices.Sort(ns)
	return ns
}

func (c catalog) bundleNames() []string {
	ns := make([]string, len(c.bundles))
	for i, b := range c.bundles {
		ns[i] = b.Name
	}
	slices.Sort(ns)
	return ns
}

func (c catalog) lookupType(name string) (Type, error) {
	if i := slices.IndexFunc(c.types, func(t Type) bool { return t.Name == name }); i >= 0 {
		return c.types[i], nil
	}
	return Type{}, unknown("sandbox type", name, c.typeNames())
}

func (c catalog) lookupBundle(name string) (Bundle, error) {
	if name == "" || name == NoBundle {
		return Bundle{}, nil
	}
	if i := slices.IndexFunc(c.bundles, func(b Bundle) bool { return b.Name == name }); i >= 0 {
		return c.bundles[i], nil
	}
	return Bundle{}, unknown("bundle", name, append(c.bundleNames(), NoBundle))
}

func unknown(what, name string, valid []string) error {
	return fmt.Errorf("unknown %s %q (valid: %s)", what, name, strings.Join(valid, ", "))
}

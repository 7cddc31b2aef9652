package features

import (
	"time"

	units "github.com/docker/go-units"

	"github.com/org/sandbox-action/pkg/spec"
)

// Bundle is an experiment bundle: a named preset of several options, chosen
// with one flag or config key, so a team can try a different shape of run
// without spelling out every option.
type Bundle struct {
	Name        string
	Description string
	Settings    Settings
}

// NoBundle is the bundle name that explicitly chooses no bundle, e.g. to
// override the config file's bundle from the command line.
const NoBundle = "none"

// Bundles returns the experiment bundles, sorted by name. Each call returns
// fresh values.
func Bundles() []Bundle {
	return []Bundle{
		{
			Name:        "locked-down",
			Description: "private network, where only the egress allowlist is reachable, and tighter limits",
			Settings: Settings{
				Network: new(spec.Private),
				Memory:  new(int64(2 * units.GiB)),
				CPUs:    new(int64(1e9)),
				Pids:    new(int64(256)),
				Timeout: new(20 * time.Minute),
			},
		},
		{
			Name:        "long-running",
			Description: "room for large tasks: more memory and processes, a longer timeout",
			Settings: Settings{
				Memory:  new(int64(8 * units.GiB)),
				Pids:    new(int64(1024)),
				Timeout: new(2 * time.Hour),
			},
		},
		{
			Name:        "small",
			Description: "tight limits for small, quick tasks",
			Settings: Settings{
				Memory:  new(int64(units.GiB)),
				CPUs:    new(int64(1e9)),
				Pids:    new(int64(256)),
				Timeout: new(10 * time.Minute),
			},
		},
	}
}

// BundleNames lists the valid bundle names, sorted, without NoBundle.
func BundleNames() []string { return builtin().bundleNames() }

// LookupBundle finds a bundle by name. NoBundle and "" give the zero Bundle;
// an unknown name is an error listing the valid ones.
func LookupBundle(name string) (Bundle, error) { return builtin().lookupBundle(name) }

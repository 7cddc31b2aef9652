package features

import (
	"time"

	units "github.com/docker/go-units"

	"github.com/org/sandbox-action/pkg/spec"
)

// Defaults returns the weakest layer, the only place built-in option values
// live. They fit a standard 2-CPU, 7 GB CI runner with room for the runner
// itself; Resolved.Fit lowers CPUs on smaller hosts. There is no default
// image and the default user is the workspace owner, both filled in
// elsewhere.
//
// Each call returns fresh pointers, so a caller cannot change the defaults.
func Defaults() Settings {
	return Settings{
		Network: new(spec.Private),
		Memory:  new(int64(4 * units.GiB)),
		CPUs:    new(int64(2e9)),
		Pids:    new(int64(512)),
		Timeout: new(30 * time.Minute),
	}
}

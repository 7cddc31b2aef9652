package action

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/org/sandbox-action/pkg/engine"
)

// pathMap translates paths in the action's container to paths on the
// Docker host. Containers the action starts are siblings on the host's
// daemon, so their bind mounts must name host paths: the runner mounts
// the workspace at /github/workspace from a directory under its own work
// directory. An empty pathMap is the identity: the action runs on the
// host (tests, a self-hosted runner without a container).
type pathMap []engine.Bind

// selfContainer finds the action's own container by id (a container
// action's $HOSTNAME) and returns its bind mounts and image. A process that
// is not in a container of this daemon gets the identity map and no image.
func selfContainer(ctx context.Context, e *engine.Engine, hostname string) (pathMap, string, error) {
	if hostname == "" {
		return nil, "", nil
	}
	s, err := e.InspectSelf(ctx, hostname)
	if cerrdefs.IsNotFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	return pathMap(s.Binds), s.Image, nil
}

// host returns p's path on the Docker host: the source of the mount that
// holds it (the longest destination that is p or a parent of it) joined
// with the rest. A path no mount holds exists only inside the action's
// container, where a sibling container cannot see it.
func (m pathMap) host(p string) (string, error) {
	if len(m) == 0 {
		return p, nil
	}
	p = filepath.Clean(p)
	best := -1
	for i, b := range m {
		d := filepath.Clean(b.Destination)
		if (p == d || strings.HasPrefix(p, d+"/")) && (best < 0 || len(d) > len(filepath.Clean(m[best].Destination))) {
			best = i
		}
	}
	if best < 0 {
		return "", fmt.Errorf("%s is not on a mount of the action's container, so a sandbox cannot see it (mounts: %s)", p, m)
	}
	d := filepath.Clean(m[best].Destination)
	return filepath.Join(m[best].Source, strings.TrimPrefix(p, d)), nil
}

func (m pathMap) String() string {
	var parts []string
	for _, b := range m {
		parts = append(parts, b.Source+":"+b.Destination)
	}
	return strings.Join(parts, ", ")
}

package action

import (
	"context"
	"fmt"
	"os"
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

// selfFinder is what finding the action's own container asks the daemon
// (*engine.Engine).
type selfFinder interface {
	InspectSelf(ctx context.Context, id string) (engine.Self, error)
	HasPath(ctx context.Context, id, path string) (bool, error)
	NetworkGuests(ctx context.Context, s engine.Self) ([]string, error)
}

// selfProbe is what the action knows of its container from inside it.
type selfProbe struct {
	// marker is a file this process wrote into its root filesystem: only
	// its own container holds it. Empty when it could not be written (a
	// read-only root, a non-root user).
	marker string
	// cgroupID is the container id /proc/self/cgroup names (cgroup v1,
	// or v2 without a cgroup namespace); empty when it names none.
	cgroupID string
}

// self is the action's own container, when it runs in one.
type self struct {
	paths pathMap
	// image is the container's image id; empty outside a container.
	image string
	// inContainer says the action runs in a container of this daemon.
	inContainer bool
	// note says how the container was found, for the log.
	note string
}

// selfContainer finds the action's own container: the one $HOSTNAME names
// (a container action's hostname is its container id), unless that is not
// this process's container. Under --network container:<id> (nektos/act,
// a job container's steps) the hostname is the other container's, and
// taking that container's mounts and image would mount the wrong host
// paths and run the wrong image as the proxy; the container sharing its
// network that holds this process's marker file is then the action's. A
// process that is not in a container of this daemon gets the identity map
// and no image.
func selfContainer(ctx context.Context, e selfFinder, hostname string, probe func() (selfProbe, func())) (self, error) {
	if hostname == "" {
		return self{}, nil
	}
	s, err := e.InspectSelf(ctx, hostname)
	if cerrdefs.IsNotFound(err) {
		return self{}, nil
	}
	if err != nil {
		return self{}, err
	}
	p, done := probe()
	defer done()
	found := func(s engine.Self, note string) self {
		return self{paths: pathMap(s.Binds), image: s.Image, inContainer: true, note: note}
	}
	mine, how, err := isSelf(ctx, e, s, p)
	if err != nil {
		return self{}, err
	}
	switch mine {
	case verified:
		return found(s, fmt.Sprintf("own container %s (%s)", short(s.ID), how)), nil
	case unverifiable:
		return found(s, fmt.Sprintf("own container %s, as $HOSTNAME names it (not verified: %s)", short(s.ID), how)), nil
	}
	guests, err := e.NetworkGuests(ctx, s)
	if err != nil {
		return self{}, err
	}
	for _, id := range guests {
		g, err := e.InspectSelf(ctx, id)
		if cerrdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return self{}, err
		}
		if m, how, err := isSelf(ctx, e, g, p); err != nil {
			return self{}, err
		} else if m == verified {
			return found(g, fmt.Sprintf("own container %s (%s), sharing the network of %s that $HOSTNAME names", short(g.ID), how, short(s.ID))), nil
		}
	}
	return self{}, fmt.Errorf("$HOSTNAME names container %s (%s), which is not the action's own (%s), and no container sharing its network is: "+
		"the action cannot tell which host paths its mounts have", short(s.ID), s.Name, how)
}

// Verdicts of isSelf.
const (
	notSelf = iota
	verified
	unverifiable
)

// isSelf tells whether s is the container this process runs in, and how it
// knows: by the marker file, else by the cgroup's container id.
func isSelf(ctx context.Context, e selfFinder, s engine.Self, p selfProbe) (int, string, error) {
	switch {
	case p.marker != "":
		ok, err := e.HasPath(ctx, s.ID, p.marker)
		if err != nil {
			return notSelf, "", err
		}
		if ok {
			return verified, "it holds the file " + p.marker + " this process wrote", nil
		}
		return notSelf, "it lacks the file " + p.marker + " this process wrote", nil
	case p.cgroupID != "":
		if p.cgroupID == s.ID {
			return verified, "its id is this process's cgroup", nil
		}
		return notSelf, "this process's cgroup names container " + short(p.cgroupID), nil
	}
	return unverifiable, "no marker file could be written and the cgroup names no container", nil
}

// probeSelf writes a marker file into root (the container's root
// filesystem, never a mount from the host, which other containers may
// share) and reads the cgroup file. The returned function removes the
// marker.
func probeSelf(root, cgroupFile string) (selfProbe, func()) {
	var p selfProbe
	if b, err := os.ReadFile(cgroupFile); err == nil {
		p.cgroupID = cgroupContainerID(string(b))
	}
	f, err := os.CreateTemp(root, ".sandbox-action-self-")
	if err != nil {
		return p, func() {}
	}
	f.Close()
	p.marker = f.Name()
	return p, func() { _ = os.Remove(f.Name()) }
}

// cgroupContainerID returns the container id /proc/self/cgroup ends in
// (/docker/<id>, /system.slice/docker-<id>.scope, a pod's path): the
// last 64-hex-digit path element of the first line that has one. Under
// cgroup v2 with a cgroup namespace (Docker's default there) it is "0::/"
// and names none.
func cgroupContainerID(data string) string {
	for _, line := range strings.Split(data, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		elems := strings.Split(parts[2], "/")
		for i := len(elems) - 1; i >= 0; i-- {
			el := strings.TrimSuffix(strings.TrimPrefix(elems[i], "docker-"), ".scope")
			if isContainerID(el) {
				return el
			}
		}
	}
	return ""
}

func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// short is a container id as docker ps shows it.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
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

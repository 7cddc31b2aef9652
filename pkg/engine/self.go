package engine

import (
	"context"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/moby/moby/client"
)

// Bind is a bind mount of a container: Source on the host at Destination
// inside it.
type Bind struct {
	Source, Destination string
}

// Self describes the container this process runs in, as a container action
// does: its mounts and networks. A sandbox it starts is a sibling on the
// same daemon, so host paths must be named by their Source.
type Self struct {
	ID string
	// Name is the container's name, without docker's leading slash.
	Name string
	// Image is the image the container runs (its id).
	Image    string
	Binds    []Bind
	Networks []string
}

// InspectSelf inspects the container named id (a container action's
// $HOSTNAME is its container id). An error satisfying errdefs.IsNotFound
// (github.com/containerd/errdefs) means this process does not run in a
// container of this daemon.
func (e *Engine) InspectSelf(ctx context.Context, id string) (Self, error) {
	info, err := e.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return Self{}, fmt.Errorf("inspect own container %s: %w", id, err)
	}
	s := Self{ID: info.Container.ID, Name: strings.TrimPrefix(info.Container.Name, "/"), Image: info.Container.Image}
	for _, m := range info.Container.Mounts {
		if m.Source != "" {
			s.Binds = append(s.Binds, Bind{Source: m.Source, Destination: m.Destination})
		}
	}
	if ns := info.Container.NetworkSettings; ns != nil {
		for name := range ns.Networks {
			s.Networks = append(s.Networks, name)
		}
	}
	return s, nil
}

// HasPath reports whether path exists in container id's filesystem. A file
// a process wrote into its own root filesystem tells its container apart
// from any other, whatever the storage driver or cgroup layout.
func (e *Engine) HasPath(ctx context.Context, id, path string) (bool, error) {
	_, err := e.c.ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: path})
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("stat %s in container %s: %w", path, id, err)
}

// NetworkGuests lists the containers started with --network
// container:<s> (by id or name): they share its network namespace, and
// with it its hostname, so their $HOSTNAME names s. Stopped ones are listed
// too: a container's process runs before the daemon's list shows it as
// running, so a process asking at once about its own container would not
// find it among the running ones.
func (e *Engine) NetworkGuests(ctx context.Context, s Self) ([]string, error) {
	res, err := e.c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var ids []string
	for _, c := range res.Items {
		mode, ok := strings.CutPrefix(c.HostConfig.NetworkMode, "container:")
		if ok && c.ID != s.ID && (mode == s.ID || (s.Name != "" && mode == s.Name) || (len(mode) >= 12 && strings.HasPrefix(s.ID, mode))) {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}

package engine

import (
	"context"
	"fmt"

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
	s := Self{ID: info.Container.ID, Image: info.Container.Image}
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

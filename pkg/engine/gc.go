package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/org/sandbox-action/pkg/spec"
)

// Object is a container or network a run created, found by its labels.
type Object struct {
	Kind      string // "container" or "network"
	ID        string
	Name      string
	RunID     string
	Workspace string
	State     string
	Created   time.Time
	Labels    map[string]string
}

// List returns every container and network carrying the run-id label,
// oldest first.
func (e *Engine) List(ctx context.Context) ([]Object, error) {
	return e.list(ctx, client.Filters{}.Add("label", spec.LabelRunID))
}

func (e *Engine) list(ctx context.Context, f client.Filters) ([]Object, error) {
	cs, err := e.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	ns, err := e.c.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var out []Object
	for _, c := range cs.Items {
		name := c.ID[:12]
		if len(c.Names) > 0 {
			name = trimSlash(c.Names[0])
		}
		out = append(out, Object{
			Kind: "container", ID: c.ID, Name: name, State: string(c.State),
			RunID: c.Labels[spec.LabelRunID], Workspace: c.Labels[spec.LabelWorkspace],
			Created: time.Unix(c.Created, 0), Labels: c.Labels,
		})
	}
	for _, n := range ns.Items {
		out = append(out, Object{
			Kind: "network", ID: n.ID, Name: n.Name,
			RunID: n.Labels[spec.LabelRunID], Workspace: n.Labels[spec.LabelWorkspace],
			Created: n.Created, Labels: n.Labels,
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// GCOptions select what GC removes.
type GCOptions struct {
	// All removes the objects of live runs too.
	All bool
	// RunID limits GC to one run.
	RunID string
	// Origin, when set, limits GC without RunID or All to the runs with
	// this origin label ("UID@HOST"): on a shared daemon, other people's
	// runs are theirs to collect.
	Origin string
}

// GC removes what earlier runs left behind: every labelled object whose
// workspace is not locked by a live run. It returns what it removed. Asked
// for one run (RunID) that is alive, it removes nothing and says so.
func (e *Engine) GC(ctx context.Context, o GCOptions) ([]Object, error) {
	f := client.Filters{}.Add("label", spec.LabelRunID)
	switch {
	case o.RunID != "":
		f = client.Filters{}.Add("label", spec.LabelRunID+"="+o.RunID)
	case o.Origin != "" && !o.All:
		f = f.Add("label", spec.LabelOrigin+"="+o.Origin)
	}
	objs, err := e.list(ctx, f)
	if err != nil {
		return nil, err
	}
	var removed []Object
	var errs []error
	alive := map[string]bool{}
	// Containers first: a network cannot be removed while a container is
	// still attached to it.
	for _, kind := range []string{"container", "network"} {
		for _, obj := range objs {
			if obj.Kind != kind {
				continue
			}
			if !o.All && obj.Workspace != "" && e.workspaceHeld(obj.Workspace) {
				alive[obj.Workspace] = true
				continue
			}
			if err := e.remove(ctx, obj); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, obj)
		}
	}
	if o.RunID != "" && len(alive) > 0 {
		for ws := range alive {
			errs = append(errs, fmt.Errorf("run %s is alive: a sandbox process holds the lock on %s; stop it, or pass --all to remove its containers anyway", o.RunID, ws))
		}
	}
	return removed, errors.Join(errs...)
}

// removeRun removes every container and network of one run, found by its
// label, within CleanupBudget, whatever state the caller's context is in.
func (e *Engine) removeRun(runID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupBudget)
	defer cancel()
	objs, err := e.list(ctx, client.Filters{}.Add("label", spec.LabelRunID+"="+runID))
	if err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	return e.removeAll(ctx, objs)
}

// removeKnown removes objects whose ids the run recorded as it created
// them: the common, clean exit needs no listing by label.
func (e *Engine) removeKnown(objs []Object) error {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupBudget)
	defer cancel()
	return e.removeAll(ctx, objs)
}

// removeAll removes containers (all at once) before networks: a network
// cannot be removed while a container is attached to it.
func (e *Engine) removeAll(ctx context.Context, objs []Object) error {
	var errs []error
	for _, kind := range []string{"container", "network"} {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, o := range objs {
			if o.Kind != kind {
				continue
			}
			wg.Go(func() {
				err := e.remove(ctx, o)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	return nil
}

func (e *Engine) remove(ctx context.Context, o Object) error {
	var err error
	switch o.Kind {
	case "container":
		_, err = e.c.ContainerRemove(ctx, o.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	case "network":
		_, err = e.c.NetworkRemove(ctx, o.ID, client.NetworkRemoveOptions{})
	}
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove %s %s: %w", o.Kind, o.Name, err)
	}
	return nil
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

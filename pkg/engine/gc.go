package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/org/sandbox-action/pkg/spec"
)

// Object is a container, volume or network a run created, found by its
// labels. (Runs no longer create networks; older versions did, and GC
// still removes what they left.)
type Object struct {
	Kind      string // "container", "volume" or "network"
	ID        string
	Name      string
	RunID     string
	Workspace string
	State     string
	Created   time.Time
	Labels    map[string]string
}

// List returns every container, volume and network carrying the run-id label,
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
	vs, err := e.c.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	for _, v := range vs.Items {
		created, _ := time.Parse(time.RFC3339, v.CreatedAt)
		out = append(out, Object{
			Kind: "volume", ID: v.Name, Name: v.Name,
			RunID: v.Labels[spec.LabelRunID], Workspace: v.Labels[spec.LabelWorkspace],
			Created: created, Labels: v.Labels,
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
	// SocketDirs is where host-transport runs make their socket
	// directories ("sandbox-<run id>"); empty leaves them alone.
	SocketDirs string
}

// orphanAge is how old a socket directory without a container must be
// before GC takes it for a dead run's, not one that is starting.
const orphanAge = time.Minute

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
	objs = append(objs, e.strayVolumes(ctx, objs, o.RunID)...)
	var removed []Object
	var errs []error
	alive := map[string]bool{}
	// Containers first: a network or volume cannot be removed while a
	// container still uses it.
	for _, kind := range objectKinds {
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
	// A killed run leaves its lock file; unheld, it guards nothing.
	if o.RunID == "" {
		e.removeStaleLocks()
	} else {
		for _, obj := range removed {
			if obj.Workspace != "" {
				removeIfStale(e.lockPath(obj.Workspace))
			}
		}
	}
	if o.SocketDirs != "" {
		dirs, err := e.gcSocketDirs(ctx, o)
		removed = append(removed, dirs...)
		errs = append(errs, err)
	}
	return removed, errors.Join(errs...)
}

// strayVolumes finds the socket volumes of the runs in objs (and of runID)
// that carry no labels: docker makes a volume that a container's mount
// names when it does not exist, and before volume mounts carried the run's
// labels it made it without them (a pasted docker run line, a container
// created before the run's volume). They are found by name, the run's
// sandbox container's with spec.VolumeName or the default one, and taken
// only when unlabelled or labelled as that run's.
func (e *Engine) strayVolumes(ctx context.Context, objs []Object, runID string) []Object {
	have := map[string]bool{}
	type candidate struct {
		name string
		run  Object
	}
	var cands []candidate
	if runID != "" {
		run := Object{RunID: runID}
		for _, o := range objs {
			if o.RunID == runID && o.Workspace != "" {
				// A live run's volume stays with the rest of the run.
				run.Workspace = o.Workspace
			}
		}
		cands = append(cands, candidate{spec.VolumeName("sandbox-" + runID), run})
	}
	for _, o := range objs {
		switch {
		case o.Kind == "volume":
			have[o.Name] = true
		case o.Kind == "container" && o.Labels[spec.LabelRole] == spec.RoleSandbox && o.RunID != "":
			cands = append(cands,
				candidate{spec.VolumeName(o.Name), o},
				candidate{spec.VolumeName("sandbox-" + o.RunID), o})
		}
	}
	var out []Object
	for _, c := range cands {
		if have[c.name] {
			continue
		}
		have[c.name] = true
		v, err := e.c.VolumeInspect(ctx, c.name, client.VolumeInspectOptions{})
		if err != nil {
			continue // none by that name (or the daemon will say so again on removal)
		}
		if id := v.Volume.Labels[spec.LabelRunID]; id != "" && id != c.run.RunID {
			continue
		}
		created, _ := time.Parse(time.RFC3339, v.Volume.CreatedAt)
		out = append(out, Object{
			Kind: "volume", ID: c.name, Name: c.name, RunID: c.run.RunID, Workspace: c.run.Workspace,
			Created: created, Labels: v.Volume.Labels,
		})
	}
	return out
}

// socketDirPattern names a host transport's socket directory.
var socketDirPattern = regexp.MustCompile(`^sandbox-([0-9a-f]{12})$`)

// gcSocketDirs removes the socket directories of runs that no longer have
// a container: what a host-transport run killed with SIGKILL leaves (its
// proxy dies with it).
func (e *Engine) gcSocketDirs(ctx context.Context, o GCOptions) ([]Object, error) {
	entries, err := os.ReadDir(o.SocketDirs)
	if err != nil {
		return nil, fmt.Errorf("socket directories: %w", err)
	}
	var removed []Object
	var errs []error
	for _, ent := range entries {
		m := socketDirPattern.FindStringSubmatch(ent.Name())
		if m == nil || !ent.IsDir() || (o.RunID != "" && m[1] != o.RunID) {
			continue
		}
		path := filepath.Join(o.SocketDirs, ent.Name())
		// Ours only: a directory holding the proxy's socket.
		if fi, err := os.Lstat(filepath.Join(path, spec.ProxySocket)); err != nil || fi.Mode()&os.ModeSocket == 0 {
			continue
		}
		info, err := ent.Info()
		if err != nil || (o.RunID == "" && time.Since(info.ModTime()) < orphanAge) {
			continue
		}
		left, err := e.list(ctx, client.Filters{}.Add("label", spec.LabelRunID+"="+m[1]))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(left) > 0 && !o.All {
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, fmt.Errorf("remove socket directory: %w", err))
			continue
		}
		removed = append(removed, Object{Kind: "socket-dir", ID: path, Name: path, RunID: m[1], Created: info.ModTime()})
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

// objectKinds are the kinds of Object in the order they can be removed: a
// network or volume cannot be removed while a container uses it.
var objectKinds = []string{"container", "volume", "network"}

// removeAll removes containers (all at once) before volumes and networks.
func (e *Engine) removeAll(ctx context.Context, objs []Object) error {
	var errs []error
	for _, kind := range objectKinds {
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
	case "volume":
		_, err = e.c.VolumeRemove(ctx, o.ID, client.VolumeRemoveOptions{Force: true})
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

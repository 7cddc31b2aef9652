package engine

import (
	"context"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/pkg/spec"
)

// leftover creates, without starting, a container labelled as a run on
// workspace would label it: what a SIGKILLed run leaves behind. An origin,
// if given, is its origin label.
func leftover(t *testing.T, c *client.Client, runID, workspace string, origin ...string) string {
	t.Helper()
	labels := map[string]string{spec.LabelRunID: runID, spec.LabelWorkspace: workspace}
	if len(origin) > 0 {
		labels[spec.LabelOrigin] = origin[0]
	}
	res, err := c.ContainerCreate(context.Background(), client.ContainerCreateOptions{
		Name: "sbxtest-" + runID,
		Config: &container.Config{
			Image: testSpec(t).Image, Cmd: []string{"/toolbox", "sleep", "60s"},
			Labels: labels,
		},
	})
	assert.NilError(t, err)
	t.Cleanup(func() {
		_, _ = c.ContainerRemove(context.Background(), res.ID, client.ContainerRemoveOptions{Force: true})
	})
	return res.ID
}

func TestGCRemovesWhatDeadRunsLeftAndKeepsLiveOnes(t *testing.T) {
	e, c := newTestEngine(t)
	ctx := context.Background()

	deadRun := randomID(t)
	leftover(t, c, deadRun, t.TempDir())

	liveWS := t.TempDir()
	lock, err := e.lockWorkspace(ctx, liveWS, false)
	assert.NilError(t, err)
	liveRun := randomID(t)
	leftover(t, c, liveRun, liveWS)

	objs, err := e.List(ctx)
	assert.NilError(t, err)
	assert.Assert(t, hasRun(objs, deadRun) && hasRun(objs, liveRun), "List misses the test runs: %+v", objs)

	// Each GC is scoped to one run: other test packages share the daemon.
	removed, err := e.GC(ctx, GCOptions{RunID: deadRun})
	assert.NilError(t, err)
	assert.Assert(t, hasRun(removed, deadRun))
	assertNothingLeft(t, c, deadRun)

	// Asked for a live run by name, gc says why it leaves it.
	removed, err = e.GC(ctx, GCOptions{RunID: liveRun})
	assert.ErrorContains(t, err, "run "+liveRun+" is alive: a sandbox process holds the lock on "+liveWS)
	assert.Assert(t, !hasRun(removed, liveRun), "gc removed a live run")

	removed, err = e.GC(ctx, GCOptions{RunID: liveRun, All: true})
	assert.NilError(t, err)
	assert.Assert(t, hasRun(removed, liveRun))
	assertNothingLeft(t, c, liveRun)
	lock.unlock()
}

// On a shared daemon, gc without --run removes only the dead runs of its own
// user and host (the origin label), unless --all.
func TestGCKeepsOtherOriginsRuns(t *testing.T) {
	e, c := newTestEngine(t)
	ctx := context.Background()
	me, other := "sbxtest-"+randomID(t)+"@host", "sbxtest-"+randomID(t)+"@host"
	mine, theirs := randomID(t), randomID(t)
	leftover(t, c, mine, t.TempDir(), me)
	leftover(t, c, theirs, t.TempDir(), other)

	removed, err := e.GC(ctx, GCOptions{Origin: me})
	assert.NilError(t, err)
	assert.Assert(t, hasRun(removed, mine) && !hasRun(removed, theirs), "removed: %+v", removed)
	assertNothingLeft(t, c, mine)
	objs, err := e.List(ctx)
	assert.NilError(t, err)
	assert.Assert(t, hasRun(objs, theirs), "another origin's run was removed")

	removed, err = e.GC(ctx, GCOptions{RunID: theirs})
	assert.NilError(t, err)
	assert.Assert(t, hasRun(removed, theirs))
}

func TestLockIsReleasedWhenTheHolderEnds(t *testing.T) {
	e, _ := newTestEngine(t)
	ws := t.TempDir()
	l, err := e.lockWorkspace(context.Background(), ws, false)
	assert.NilError(t, err)
	assert.Assert(t, e.workspaceHeld(ws))
	l.unlock()
	assert.Assert(t, !e.workspaceHeld(ws))

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	l, err = e.lockWorkspace(ctx, ws, true)
	assert.NilError(t, err)
	_, err = e.lockWorkspace(ctx, ws, true)
	assert.ErrorContains(t, err, "waiting for the lock")
	l.unlock()
}

func hasRun(objs []Object, runID string) bool {
	for _, o := range objs {
		if o.RunID == runID {
			return true
		}
	}
	return false
}

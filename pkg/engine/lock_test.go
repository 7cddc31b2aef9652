package engine

import (
	"context"
	"os"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// A run that ends leaves no lock file, and removing it never lets two runs
// hold one workspace: a waiter that locked the removed file takes the new
// one.
func TestWorkspaceLockLeavesNoFileAndStaysExclusive(t *testing.T) {
	e := &Engine{lockDir: t.TempDir()}
	ctx := context.Background()
	ws := "/work/project"

	a, err := e.lockWorkspace(ctx, ws, false)
	assert.NilError(t, err)
	got := make(chan *workspaceLock, 1)
	go func() {
		b, err := e.lockWorkspace(ctx, ws, true)
		assert.Check(t, is.Nil(err))
		got <- b
	}()
	time.Sleep(300 * time.Millisecond) // b is polling the lock a holds
	a.unlock()
	b := <-got
	assert.Assert(t, b != nil)
	_, err = e.lockWorkspace(ctx, ws, false)
	assert.Check(t, is.ErrorIs(err, ErrWorkspaceBusy), "two runs hold %s", ws)
	assert.Check(t, e.workspaceHeld(ws))

	b.unlock()
	entries, err := os.ReadDir(e.lockDir)
	assert.NilError(t, err)
	assert.Check(t, is.Len(entries, 0), "lock files left: %v", entries)
	assert.Check(t, !e.workspaceHeld(ws))
}

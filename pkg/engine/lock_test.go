package engine

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
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

// A run killed with SIGKILL leaves its lock file (the kernel drops only the
// lock): gc removes such files, never one a live run holds.
func TestStaleLockFilesAreRemoved(t *testing.T) {
	e := &Engine{lockDir: t.TempDir()}
	live, err := e.lockWorkspace(context.Background(), "/work/live", false)
	assert.NilError(t, err)
	defer live.unlock()
	dead := e.lockPath("/work/dead")
	assert.NilError(t, os.WriteFile(dead, []byte("12345"), 0o600))
	other := filepath.Join(e.lockDir, "notes.txt")
	assert.NilError(t, os.WriteFile(other, nil, 0o600))

	e.removeStaleLocks()
	_, err = os.Stat(dead)
	assert.Check(t, is.ErrorIs(err, fs.ErrNotExist), "a dead run's lock file is left")
	_, err = os.Stat(e.lockPath("/work/live"))
	assert.Check(t, err, "a live run's lock file was removed")
	assert.Check(t, e.workspaceHeld("/work/live"))
	_, err = os.Stat(other)
	assert.Check(t, err, "a file the engine did not make was removed")

	// One workspace's, as gc --run removes it.
	assert.NilError(t, os.WriteFile(dead, []byte("12345"), 0o600))
	removeIfStale(dead)
	_, err = os.Stat(dead)
	assert.Check(t, is.ErrorIs(err, fs.ErrNotExist))
}

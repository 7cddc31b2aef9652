package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrWorkspaceBusy is returned when another run holds the workspace.
var ErrWorkspaceBusy = errors.New("workspace is busy")

// workspaceLock is an exclusive advisory lock on one working tree. It is an
// flock on a file named for the workspace path, so the kernel releases it
// when the holder dies, however it dies: a killed run never leaves a stale
// lock behind (only its file, which the next run reuses and gc removes). A run that
// ends removes the file.
type workspaceLock struct {
	f *os.File
}

func (e *Engine) lockPath(workspace string) string {
	sum := sha256.Sum256([]byte(workspace))
	return filepath.Join(e.lockDir, hex.EncodeToString(sum[:8])+".lock")
}

// lockWorkspace takes the lock on workspace. Without wait it fails at once
// with ErrWorkspaceBusy naming the holder; with wait it polls until the lock
// is free or ctx ends.
func (e *Engine) lockWorkspace(ctx context.Context, workspace string, wait bool) (*workspaceLock, error) {
	if err := os.MkdirAll(e.lockDir, 0o700); err != nil {
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	path := e.lockPath(workspace)
	var f *os.File
	for {
		if f == nil {
			var err error
			if f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
				return nil, fmt.Errorf("open lock: %w", err)
			}
		}
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			// The holder before us removes the file as it unlocks; a lock
			// on the removed file guards nothing: open the path again.
			if current(f, path) {
				break
			}
			f.Close()
			f = nil
			continue
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !wait {
			holder := readHolder(f)
			f.Close()
			return nil, fmt.Errorf("%w: another sandbox run (%s) is using %s; wait for it to finish, pass --wait to queue behind it, or use another working tree", ErrWorkspaceBusy, holder, workspace)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock on %s: %w", workspace, context.Cause(ctx))
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Record the holder for the error a second run prints.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &workspaceLock{f: f}, nil
}

func readHolder(f *os.File) string {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	if pid := strings.TrimSpace(string(buf[:n])); pid != "" {
		return "pid " + pid
	}
	return "unknown process"
}

// workspaceHeld reports whether some live process holds the lock on workspace.
func (e *Engine) workspaceHeld(workspace string) bool {
	f, err := os.OpenFile(e.lockPath(workspace), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// unlock removes the lock file and releases the lock, so that runs leave no
// files behind. The file goes first, while the lock is still held: a run
// waiting on it then finds it gone (see current) and takes a new one.
func (l *workspaceLock) unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = os.Remove(l.f.Name())
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
}

// removeStaleLocks removes the lock files of runs that died without
// unlocking (a SIGKILL): files no live process holds. Each is removed while
// locked, as unlock does, so a run opening it meanwhile takes a new one.
// Only whole-file names the engine makes are touched.
func (e *Engine) removeStaleLocks() {
	entries, err := os.ReadDir(e.lockDir)
	if err != nil {
		return
	}
	for _, d := range entries {
		if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".lock") {
			removeIfStale(filepath.Join(e.lockDir, d.Name()))
		}
	}
}

// removeIfStale removes the lock file at path unless a live process holds it.
func removeIfStale(path string) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return // held: a live run's
	}
	if current(f, path) {
		_ = os.Remove(path)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// current reports whether f is still the file at path.
func current(f *os.File, path string) bool {
	held, err := f.Stat()
	if err != nil {
		return false
	}
	now, err := os.Stat(path)
	return err == nil && os.SameFile(held, now)
}

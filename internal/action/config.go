package action

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/org/sandbox-action/pkg/config"
	"github.com/org/sandbox-action/pkg/github"
	"github.com/org/sandbox-action/pkg/plan"
)

type configFile = config.File

// baseRef is the commit a pull request run takes its rules from.
func (a *action) baseRef() string {
	if a.pr == nil {
		return ""
	}
	if a.pr.BaseSHA != "" {
		return a.pr.BaseSHA
	}
	return a.pr.BaseRef
}

// config reads the sandbox config. A run on a pull request reads it from
// the pull request's base through the API, never from the checked-out
// head: a pull request cannot change the rules its own reviewer follows.
// Any other run reads it from the workspace.
func (a *action) config(ctx context.Context, ws string) (*config.File, error) {
	if a.pr == nil {
		f, err := plan.LoadConfig(filepath.Join(ws, a.in.configPath), ws)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return f, err
	}
	data, err := a.gh.FileAt(ctx, a.ev.Repo, a.baseRef(), a.in.configPath)
	if errors.Is(err, github.ErrNotFound) {
		fmt.Fprintf(a.log, "no %s on the base branch: built-in defaults and inputs apply\n", a.in.configPath)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(a.log, "config: %s from the base branch (%s)\n", a.in.configPath, shortRef(a.baseRef()))
	return config.Parse(data, a.in.configPath)
}

// instructionFiles and instructionDirs are what agents read as their rules
// from the working tree. For a pull request run they are taken from the
// base branch.
var (
	instructionFiles = []string{"CLAUDE.md", "AGENTS.md", "GEMINI.md", ".mcp.json"}
	instructionDirs  = []string{".claude", ".codex", ".gemini"}
)

// savedFile is a file of the head's instruction files, kept to be put back:
// a regular file's content, or a symlink's target.
type savedFile struct {
	path string
	data []byte
	mode fs.FileMode
	link string
}

// Bounds of the head's instruction files kept in memory while the base's
// stand in for them: a pull request could otherwise make the action read
// any amount (GitHub takes files up to 100 MB, and any number of them).
const (
	maxSavedBytes = 32 << 20
	maxSavedFiles = 10000
)

// baseInstructions replaces the agent instruction files in the workspace
// with the base branch's versions (removing those the base does not have)
// and returns a function that puts the head's versions back after the run.
// The head's are all read before any is removed, so that a failure (an
// unreadable file, more than the bounds) leaves the workspace as it was.
func (a *action) baseInstructions(ctx context.Context, ws string) (restore func(), err error) {
	var saved []savedFile
	var written []string
	// Everything this process (root, on the runner's files) writes or
	// removes in the workspace goes through root, which no symlink leads
	// out of: after the run the agent has had the workspace to itself.
	root, err := os.OpenRoot(ws)
	if err != nil {
		return func() {}, fmt.Errorf("workspace: %w", err)
	}
	restore = func() {
		defer root.Close()
		// The directories first: a file below one that the agent
		// replaced with a symlink is then gone, not reached through it.
		for _, d := range instructionDirs {
			_ = root.RemoveAll(d)
		}
		for _, p := range written {
			_ = root.RemoveAll(p)
		}
		for _, s := range saved {
			if s.link != "" {
				_ = root.RemoveAll(s.path)
				_ = root.MkdirAll(filepath.Dir(s.path), 0o755)
				_ = root.Symlink(s.link, s.path)
			} else {
				_ = writeNew(root, s.path, s.data, s.mode)
			}
			chownLike(filepath.Join(ws, s.path), ws)
		}
	}
	// Save the head's versions, then remove them.
	heads := append(append([]string(nil), instructionFiles...), instructionDirs...)
	var total int64
	for _, p := range heads {
		full := filepath.Join(ws, p)
		err := filepath.WalkDir(full, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(ws, path)
			var f savedFile
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				target, err := os.Readlink(path)
				if err != nil {
					return err
				}
				f = savedFile{path: rel, link: target}
			case d.Type().IsRegular():
				info, err := d.Info()
				if err != nil {
					return err
				}
				if total += info.Size(); total > maxSavedBytes {
					return fmt.Errorf("the pull request's agent instruction files hold more than %d MiB", maxSavedBytes>>20)
				}
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				f = savedFile{path: rel, data: data, mode: info.Mode().Perm()}
			default:
				return nil
			}
			if saved = append(saved, f); len(saved) > maxSavedFiles {
				return fmt.Errorf("the pull request has more than %d agent instruction files", maxSavedFiles)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			root.Close()
			return func() {}, fmt.Errorf("save %s: %w", p, err)
		}
	}
	for _, p := range heads {
		if err := root.RemoveAll(p); err != nil {
			restore()
			return func() {}, fmt.Errorf("remove the head's %s: %w", p, err)
		}
	}
	// Write the base's versions.
	var paths []string
	paths = append(paths, instructionFiles...)
	for _, d := range instructionDirs {
		files, err := a.gh.Tree(ctx, a.ev.Repo, a.baseRef(), d)
		if errors.Is(err, github.ErrNotFound) {
			continue
		}
		if err != nil {
			restore()
			return func() {}, err
		}
		paths = append(paths, files...)
	}
	var taken []string
	for _, p := range paths {
		data, err := a.gh.FileAt(ctx, a.ev.Repo, a.baseRef(), p)
		if errors.Is(err, github.ErrNotFound) {
			continue
		}
		if err != nil {
			restore()
			return func() {}, err
		}
		if !filepath.IsLocal(p) {
			continue
		}
		if err := writeNew(root, p, data, 0o644); err != nil {
			restore()
			return func() {}, err
		}
		chownLike(filepath.Join(ws, p), ws)
		written = append(written, p)
		taken = append(taken, p)
	}
	if len(saved) > 0 || len(taken) > 0 {
		fmt.Fprintf(a.log, "agent instructions from the base branch (%s): %s\n", shortRef(a.baseRef()), orNone(taken))
	}
	return restore, nil
}

// writeNew writes data to a new file at rel in root, replacing whatever is
// there: a symlink left in its place is removed, never written through (to
// the runner's files, or to .git/config, which the sandbox cannot write
// but the host's git runs).
func writeNew(root *os.Root, rel string, data []byte, mode fs.FileMode) error {
	if err := root.RemoveAll(rel); err != nil {
		return err
	}
	if err := root.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
		return err
	}
	f, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

// chownLike gives path (and the directories made for it) the workspace's
// owner, so the runner can clean up.
func chownLike(path, ws string) {
	fi, err := os.Stat(ws)
	if err != nil {
		return
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	for p := path; p != ws && strings.HasPrefix(p, ws); p = filepath.Dir(p) {
		_ = os.Lchown(p, int(st.Uid), int(st.Gid))
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func shortRef(r string) string {
	if len(r) == 40 {
		return r[:7]
	}
	return r
}

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

// savedFile is a file of the head's instruction files, kept to be put back.
type savedFile struct {
	path string
	data []byte
	mode fs.FileMode
}

// baseInstructions replaces the agent instruction files in the workspace
// with the base branch's versions (removing those the base does not have)
// and returns a function that puts the head's versions back after the run.
func (a *action) baseInstructions(ctx context.Context, ws string) (restore func(), err error) {
	var saved []savedFile
	var written []string
	restore = func() {
		for _, p := range written {
			_ = os.RemoveAll(filepath.Join(ws, p))
		}
		for _, d := range instructionDirs {
			_ = os.RemoveAll(filepath.Join(ws, d))
		}
		for _, s := range saved {
			full := filepath.Join(ws, s.path)
			_ = os.MkdirAll(filepath.Dir(full), 0o755)
			_ = os.WriteFile(full, s.data, s.mode)
			chownLike(full, ws)
		}
	}
	// Save and remove the head's versions.
	for _, p := range append(append([]string(nil), instructionFiles...), instructionDirs...) {
		full := filepath.Join(ws, p)
		err := filepath.WalkDir(full, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			info, _ := d.Info()
			rel, _ := filepath.Rel(ws, path)
			saved = append(saved, savedFile{path: rel, data: data, mode: info.Mode().Perm()})
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return func() {}, fmt.Errorf("save %s: %w", p, err)
		}
		if err := os.RemoveAll(full); err != nil {
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
		full := filepath.Join(ws, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			restore()
			return func() {}, err
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			restore()
			return func() {}, err
		}
		chownLike(full, ws)
		written = append(written, p)
		taken = append(taken, p)
	}
	if len(saved) > 0 || len(taken) > 0 {
		fmt.Fprintf(a.log, "agent instructions from the base branch (%s): %s\n", shortRef(a.baseRef()), orNone(taken))
	}
	return restore, nil
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

package plan

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/org/sandbox-action/pkg/spec"
)

// GitProtection is what the sandbox is given of the workspace's git
// repository.
type GitProtection struct {
	// Mounts lay the git directory, and every .git file that points into
	// it, read-only over themselves inside the workspace mount.
	Mounts []spec.Mount
	// Masks are the targets of empty read-only mounts (spec.RunSpec.Masks):
	// /workspace/.git when the workspace has none.
	Masks []string
	// Placeholders are the paths (as this process sees them) of the empty
	// directories Docker creates in the workspace for Masks, to be removed
	// after the run.
	Placeholders []string
	// Notices explain what the sandbox will not see.
	Notices []string
}

// ProtectGit finds the git metadata of the workspace and returns the mounts
// that make it read-only inside the sandbox.
//
// A writable git directory lets a sandbox plant commands that the host runs
// later: core.fsmonitor, core.hooksPath or a filter driver in .git/config, a
// hook in .git/hooks, all run by the next `git status` or `git commit` on
// the host. Read-only, git inside the sandbox still reads history, diffs
// and logs: those need no writes.
//
// local is the workspace as this process sees it; host is the same
// directory as the Docker daemon sees it (they differ when this process
// runs in a container, as the GitHub Action does). Both must be absolute
// and free of symlinks (see Workspace).
//
// The cases:
//   - .git is a directory: it is mounted read-only over itself, and so is
//     every .git file inside the workspace that git records in it, of a
//     submodule or a linked worktree (such a file is a pointer a sandbox
//     could otherwise redirect to a git directory of its own making; the
//     git directories themselves live under .git/modules and
//     .git/worktrees and are already covered).
//   - .git is a "gitdir:" file (a linked worktree, or a submodule checked
//     out on its own): the file itself is mounted read-only, for the same
//     reason, and so are the git directory it names and that directory's
//     common directory (a worktree's "commondir") when they lie inside the
//     workspace.
//   - A git directory outside the workspace is not mounted at all: the
//     sandbox sees only the workspace, so it cannot reach it, and git
//     inside the sandbox does not see a repository. That is said in a
//     notice.
//   - .git as a symlink is refused: the link itself would stay writable, so
//     a sandbox could point it at a directory of its own.
//   - No .git (a tree that is not a repository, or a subdirectory of
//     one): an empty read-only mount keeps the sandbox from creating one,
//     since the host's git would find it before any repository above and
//     run its configuration in that directory.
//   - A workspace that is itself a git directory (a bare repository), or
//     lies in one, is refused: its configuration and hooks would be the
//     sandbox's to write.
func ProtectGit(local, host string) (GitProtection, error) {
	var g GitProtection
	if isGitDir(local) || slices.Contains(strings.Split(filepath.ToSlash(local), "/"), ".git") {
		return g, fmt.Errorf("workspace %s is, or lies in, a git directory, whose configuration and hooks a sandbox could write: use the working tree", local)
	}
	dotgit := filepath.Join(local, ".git")
	fi, err := os.Lstat(dotgit)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		g.Masks = append(g.Masks, filepath.Join(spec.WorkspaceDir, ".git"))
		g.Placeholders = append(g.Placeholders, dotgit)
		return g, nil
	case err != nil:
		return g, fmt.Errorf("workspace git directory: %w", err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return g, fmt.Errorf("workspace %s: .git is a symlink, which the sandbox could redirect; replace it with the directory or a \"gitdir:\" file", local)
	case fi.IsDir():
		g.add(local, host, dotgit)
		return g, g.pointers(local, host, dotgit)
	case !fi.Mode().IsRegular():
		return g, fmt.Errorf("workspace %s: .git is neither a directory nor a file", local)
	}

	// A "gitdir:" file.
	g.add(local, host, dotgit)
	gitdir, err := readGitdirFile(dotgit)
	if err != nil {
		return g, err
	}
	common := gitdir
	if c, err := os.ReadFile(filepath.Join(gitdir, "commondir")); err == nil {
		common = resolvePath(gitdir, strings.TrimSpace(string(c)))
	}
	// Mount the outermost of the two that is inside the workspace: a
	// worktree's git directory normally lies inside its common directory.
	protected := false
	for _, dir := range []string{common, gitdir} {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			// A git directory that does not exist cannot be written to
			// through the workspace either.
			continue
		}
		if !inside(local, real) {
			continue
		}
		if !g.covered(local, host, real) {
			g.add(local, host, real)
		}
		protected = true
	}
	if !protected {
		g.Notices = append(g.Notices, fmt.Sprintf(
			"the workspace's git directory %s lies outside it, so the sandbox cannot reach it: git inside the sandbox will not see a repository", gitdir))
	} else if real, err := filepath.EvalSymlinks(common); err == nil && inside(local, real) {
		return g, g.pointers(local, host, real)
	}
	return g, nil
}

// add mounts path (inside local) read-only over itself.
func (g *GitProtection) add(local, host, path string) {
	rel, _ := filepath.Rel(local, path)
	g.Mounts = append(g.Mounts, spec.Mount{
		Source:   filepath.Join(host, rel),
		Target:   filepath.Join(spec.WorkspaceDir, rel),
		ReadOnly: true,
	})
}

// covered reports whether path already lies under one of g's mounts.
func (g *GitProtection) covered(local, host, path string) bool {
	rel, _ := filepath.Rel(local, path)
	src := filepath.Join(host, rel)
	for _, m := range g.Mounts {
		if src == m.Source || strings.HasPrefix(src, m.Source+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// pointers protects the .git files inside the workspace that point into
// the git directory common: those of its linked worktrees and of its
// submodules.
func (g *GitProtection) pointers(local, host, common string) error {
	if err := g.worktrees(local, host, common); err != nil {
		return err
	}
	return g.submodules(local, host, common)
}

// protectFile mounts file read-only when it is a regular file inside the
// workspace that no mount covers yet.
func (g *GitProtection) protectFile(local, host, file string) {
	real, err := filepath.EvalSymlinks(file)
	if err != nil || !inside(local, real) {
		return
	}
	if fi, err := os.Lstat(real); err == nil && fi.Mode().IsRegular() && !g.covered(local, host, real) {
		g.add(local, host, real)
	}
}

// worktrees protects the .git files of the linked worktrees of common:
// common/worktrees/NAME/gitdir names each one.
func (g *GitProtection) worktrees(local, host, common string) error {
	entries, err := os.ReadDir(filepath.Join(common, "worktrees"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("workspace worktrees: %w", err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(common, "worktrees", e.Name(), "gitdir"))
		if err != nil {
			continue // not a worktree entry git could use either
		}
		g.protectFile(local, host, resolvePath(filepath.Join(common, "worktrees", e.Name()), strings.TrimSpace(string(data))))
	}
	return nil
}

// submodules protects the .git files of the submodules whose git
// directories live in common/modules: each one's config names its working
// tree (core.worktree), whose .git file points back at it.
func (g *GitProtection) submodules(local, host, common string) error {
	root := filepath.Join(common, "modules")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		switch d.Name() {
		case "objects", "refs", "logs", "hooks", "info", "lfs":
			// Parts of a git directory that hold no submodule.
			return fs.SkipDir
		}
		wt, ok, err := configWorktree(filepath.Join(path, "config"))
		if err != nil || !ok {
			return err
		}
		g.protectFile(local, host, filepath.Join(resolvePath(path, wt), ".git"))
		return nil
	})
	if err != nil {
		return fmt.Errorf("workspace submodules: %w", err)
	}
	return nil
}

// isGitDir reports whether dir is laid out as a git directory: HEAD,
// objects and refs, as git's own discovery checks.
func isGitDir(dir string) bool {
	for _, p := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
			return false
		}
	}
	return true
}

// readGitdirFile reads a .git file: one line "gitdir: PATH", PATH relative
// to the file's directory unless absolute.
func readGitdirFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("workspace .git file: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	dir, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir:")
	if !ok || strings.TrimSpace(dir) == "" {
		return "", fmt.Errorf("workspace .git file %s: want a line \"gitdir: PATH\", got %q", path, line)
	}
	return resolvePath(filepath.Dir(path), strings.TrimSpace(dir)), nil
}

// configWorktree reads core.worktree from a git config file. It reads only
// what git itself writes there for a submodule; anything it cannot read is
// treated as absent.
func configWorktree(path string) (string, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			section = strings.ToLower(strings.Trim(line, "[] \t"))
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if ok && section == "core" && strings.EqualFold(strings.TrimSpace(key), "worktree") {
			return strings.Trim(strings.TrimSpace(value), `"`), true, nil
		}
	}
	return "", false, sc.Err()
}

func resolvePath(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

// inside reports whether path lies under dir.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

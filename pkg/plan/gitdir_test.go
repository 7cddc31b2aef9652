package plan

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/spec"
)

// git runs the host's git in dir, failing t on error. Tests build real
// repositories with it: worktrees and submodules are laid out by git, not
// by hand.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{
		"-c", "user.name=test", "-c", "user.email=test@example.invalid",
		"-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main",
	}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, "git %s: %s", strings.Join(args, " "), out)
}

// newRepo makes a repository with one commit under a fresh directory.
func newRepo(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	assert.NilError(t, err)
	git(t, dir, "init", "-q")
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("hi\n"), 0o644))
	git(t, dir, "add", "README")
	git(t, dir, "commit", "-qm", "init")
	return dir
}

func ro(host, rel string) spec.Mount {
	return spec.Mount{Source: filepath.Join(host, rel), Target: filepath.Join(spec.WorkspaceDir, rel), ReadOnly: true}
}

func TestProtectGit(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup returns the workspace and the paths (relative to it) that
		// must be mounted read-only.
		setup   func(t *testing.T) (string, []string)
		notice  string
		wantErr string
	}{
		{name: "no repository", setup: func(t *testing.T) (string, []string) { return t.TempDir(), nil }},
		{name: "git directory", setup: func(t *testing.T) (string, []string) { return newRepo(t), []string{".git"} }},
		{name: "submodule .git files", setup: func(t *testing.T) (string, []string) {
			lib := newRepo(t)
			ws := newRepo(t)
			git(t, ws, "submodule", "add", "-q", lib, "vendor/lib")
			git(t, ws, "submodule", "add", "-q", lib, "second")
			git(t, ws, "commit", "-qm", "add submodules")
			return ws, []string{".git", "second/.git", "vendor/lib/.git"}
		}},
		{name: "linked worktree inside the workspace", setup: func(t *testing.T) (string, []string) {
			ws := newRepo(t)
			git(t, ws, "worktree", "add", "-q", filepath.Join(ws, "trees", "feature"))
			return ws, []string{".git", "trees/feature/.git"}
		}},
		{name: "separate git directory inside", setup: func(t *testing.T) (string, []string) {
			ws, err := filepath.EvalSymlinks(t.TempDir())
			assert.NilError(t, err)
			git(t, ws, "init", "-q", "--separate-git-dir", filepath.Join(ws, "meta"), ".")
			return ws, []string{".git", "meta"}
		}},
		{name: "linked worktree of a repository outside", setup: func(t *testing.T) (string, []string) {
			main := newRepo(t)
			wt := filepath.Join(t.TempDir(), "wt")
			git(t, main, "worktree", "add", "-q", wt)
			return wt, []string{".git"}
		}, notice: "lies outside it, so the sandbox cannot reach it"},
		{name: "worktree inside the workspace of its repository", setup: func(t *testing.T) (string, []string) {
			// The workspace holds the main repository's git directory
			// (moved aside with --separate-git-dir) and is itself a
			// linked worktree of it: the worktree's git directory lies
			// inside the common one, which is mounted once.
			ws, err := filepath.EvalSymlinks(t.TempDir())
			assert.NilError(t, err)
			main := filepath.Join(t.TempDir(), "main")
			assert.NilError(t, os.Mkdir(main, 0o755))
			git(t, main, "init", "-q", "--separate-git-dir", filepath.Join(ws, "common"), ".")
			assert.NilError(t, os.WriteFile(filepath.Join(main, "f"), nil, 0o644))
			git(t, main, "add", "f")
			git(t, main, "commit", "-qm", "init")
			wt := filepath.Join(ws, "tree")
			git(t, main, "worktree", "add", "-q", wt)
			// Use the worktree's .git file as the workspace's.
			assert.NilError(t, os.Rename(filepath.Join(wt, ".git"), filepath.Join(ws, ".git")))
			return ws, []string{".git", "common"}
		}},
		{name: "bare repository", setup: func(t *testing.T) (string, []string) {
			ws := t.TempDir()
			git(t, ws, "init", "-q", "--bare")
			return ws, nil
		}, wantErr: "is, or lies in, a git directory"},
		{name: "inside a git directory", setup: func(t *testing.T) (string, []string) {
			return filepath.Join(newRepo(t), ".git", "hooks"), nil
		}, wantErr: "is, or lies in, a git directory"},
		{name: "symlinked .git", setup: func(t *testing.T) (string, []string) {
			repo := newRepo(t)
			ws := t.TempDir()
			assert.NilError(t, os.Symlink(filepath.Join(repo, ".git"), filepath.Join(ws, ".git")))
			return ws, nil
		}, wantErr: ".git is a symlink"},
		{name: "unreadable .git file", setup: func(t *testing.T) (string, []string) {
			ws := t.TempDir()
			assert.NilError(t, os.WriteFile(filepath.Join(ws, ".git"), []byte("not a pointer\n"), 0o644))
			return ws, nil
		}, wantErr: `want a line "gitdir: PATH", got "not a pointer"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, want := tc.setup(t)
			// The daemon sees the workspace elsewhere, as on a runner.
			host := "/host/runner/work/repo"
			g, err := ProtectGit(ws, host)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			assert.NilError(t, err)
			var wantMounts []spec.Mount
			for _, rel := range want {
				wantMounts = append(wantMounts, ro(host, rel))
			}
			got := g.Mounts
			assert.Check(t, is.DeepEqual(sortedMounts(got), sortedMounts(wantMounts)))
			if tc.notice == "" {
				assert.Check(t, is.Len(g.Notices, 0))
			} else {
				assert.Check(t, is.Len(g.Notices, 1))
				assert.Check(t, is.Contains(strings.Join(g.Notices, "\n"), tc.notice))
			}
		})
	}
}

func sortedMounts(ms []spec.Mount) []spec.Mount {
	out := slices.Clone(ms)
	slices.SortFunc(out, func(a, b spec.Mount) int { return strings.Compare(a.Target, b.Target) })
	return out
}

func TestBuildMountsGitReadOnly(t *testing.T) {
	for _, mode := range []spec.NetworkMode{spec.Public, spec.Private} {
		t.Run(string(mode), func(t *testing.T) {
			in := agentInput(t, "claude", mode)
			in.Workspace = newRepo(t)
			p, err := Build(in)
			assert.NilError(t, err)
			assert.Check(t, is.DeepEqual(p.Run.Sandbox.Mounts, []spec.Mount{ro(in.Workspace, ".git")}))
			assert.Check(t, is.Contains(p.Run.Sandbox.CommandLine(), "dst=/workspace/.git,readonly"))
			if p.Run.Proxy != nil {
				assert.Check(t, is.Len(p.Run.Proxy.Mounts, 0), "the proxy mounts nothing")
			}
		})
	}
}

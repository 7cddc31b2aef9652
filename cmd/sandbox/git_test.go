package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testimage"
)

// hostGit runs the host's git in dir as a person would, with nothing
// disabled and no global configuration. On a laptop the sandbox writes as
// the person who owns the tree; here it writes as 1000 while the test runs
// as another user, so git's ownership check (which a person's own tree
// never trips) is turned off to look at the tree as its owner would.
func hostGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{
		"-c", "user.name=test", "-c", "user.email=test@example.invalid",
		"-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main",
		"-c", "safe.directory=*",
	}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, "git %s: %s", strings.Join(args, " "), out)
	return string(out)
}

// gitWorkspace is a repository with one commit, every file writable by the
// sandbox user, so that only the sandbox's mounts can stop a write.
func gitWorkspace(t *testing.T) string {
	t.Helper()
	ws, err := filepath.EvalSymlinks(workspace(t))
	assert.NilError(t, err)
	hostGit(t, ws, "init", "-q")
	assert.NilError(t, os.WriteFile(filepath.Join(ws, "a.txt"), []byte("one\n"), 0o666))
	hostGit(t, ws, "add", "a.txt")
	hostGit(t, ws, "commit", "-qm", "init")
	return ws
}

func chmodAll(t *testing.T, dir string) {
	t.Helper()
	assert.NilError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.Mode()&os.ModeSymlink != 0 {
			return err
		}
		return os.Chmod(p, fi.Mode().Perm()|0o777)
	}))
}

// fakeGitdir is what a sandbox writes to replace a .git file's target: a
// minimal git directory whose config runs `touch MARKER` on `git status`.
func fakeGitdir(dir, marker string) []string {
	return []string{
		"mkdir", dir, "::",
		"mkdir", dir + "/objects", "::",
		"mkdir", dir + "/refs", "::",
		"write", dir + "/HEAD", "ref: refs/heads/main\n", "::",
		"write", dir + "/config", fmt.Sprintf("[core]\n\trepositoryformatversion = 0\n\tfsmonitor = \"touch %s\"\n", marker),
	}
}

// gitToolbox is the toolbox under a tag of this test's own: the probes it
// needs (mkdir, append, rename) must not be lost to a test binary that
// builds the shared tag from an older toolbox.
const gitToolbox = "sandbox-action-test/toolbox-git:dev"

var probeResult = regexp.MustCompile(`(?m)^### (\d+) (ok|error: .*)$`)

// TestSandboxCannotPlantGitCommands tries, from inside a real sandbox,
// every way of leaving a command for the host's git; each write must fail
// with a read-only file system, git's metadata must still be readable, and
// the host's plain `git status` afterwards must run nothing.
func TestSandboxCannotPlantGitCommands(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup returns the workspace and the directory (inside it) where
		// the planted command leaves its marker.
		setup func(t *testing.T) string
		// probes run in the sandbox; every one must fail read-only. MARKER
		// stands for the marker's host path: the host is where a planted
		// command would run.
		probes [][]string
		// reads must succeed.
		reads [][]string
		// statusIn are the directories (relative to the workspace) where
		// the host runs git status afterwards; "." when empty.
		statusIn []string
	}{
		{
			name:  "git directory",
			setup: gitWorkspace,
			probes: [][]string{
				{"append", ".git/config", "[core]\n\tfsmonitor = \"touch MARKER\"\n"},
				{"append", ".git/config", "[core]\n\thooksPath = /workspace/hooks\n"},
				{"append", ".git/config", "[filter \"x\"]\n\tclean = \"touch MARKER; cat\"\n"},
				{"write", ".git/hooks/pre-commit", "#!/bin/sh\ntouch MARKER\n"},
				{"write", ".git/info/attributes", "* filter=x\n"},
				{"mkdir", ".git/new"},
				{"write", ".git/objects/planted", "x"},
			},
			reads: [][]string{{"cat", ".git/HEAD"}, {"cat", ".git/config"}},
		},
		{
			name: "linked worktree .git file",
			setup: func(t *testing.T) string {
				main := gitWorkspace(t)
				wt := filepath.Join(workspace(t), "wt")
				hostGit(t, main, "worktree", "add", "-q", wt)
				chmodAll(t, wt)
				return wt
			},
			probes: [][]string{
				{"write", ".git", "gitdir: fake\n"},
			},
			reads: [][]string{{"cat", ".git"}},
		},
		{
			name: "linked worktree inside the workspace",
			setup: func(t *testing.T) string {
				ws := gitWorkspace(t)
				hostGit(t, ws, "worktree", "add", "-q", filepath.Join(ws, "feature"))
				return ws
			},
			probes: [][]string{
				{"write", "feature/.git", "gitdir: ../fake\n"},
				{"append", ".git/worktrees/feature/config.worktree", "[core]\n\tfsmonitor = \"touch MARKER\"\n"},
			},
			reads:    [][]string{{"cat", "feature/.git"}},
			statusIn: []string{".", "feature"},
		},
		{
			name: "submodule .git file",
			setup: func(t *testing.T) string {
				lib := gitWorkspace(t)
				ws := gitWorkspace(t)
				hostGit(t, ws, "submodule", "add", "-q", lib, "lib")
				hostGit(t, ws, "commit", "-qm", "submodule")
				return ws
			},
			probes: [][]string{
				{"write", "lib/.git", "gitdir: ../fake\n"},
				{"append", ".git/modules/lib/config", "[core]\n\tfsmonitor = \"touch MARKER\"\n"},
			},
			reads: [][]string{{"cat", "lib/.git"}, {"cat", ".git/modules/lib/HEAD"}},
		},
		{
			// A tree without .git (here a subdirectory of a repository, as
			// in a monorepo) must not get one: git on the host discovers
			// the nearest .git, so a planted one runs its config the next
			// time a person (or a git-aware shell prompt) looks at the tree.
			name: "subdirectory of a repository",
			setup: func(t *testing.T) string {
				sub := filepath.Join(gitWorkspace(t), "sub")
				assert.NilError(t, os.Mkdir(sub, 0o777))
				return sub
			},
			probes: [][]string{
				{"rename", "fake", ".git"},
				{"mkdir", ".git/hooks"},
				{"write", ".git/config", "[core]\n\tfsmonitor = \"touch MARKER\"\n"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := tc.setup(t)
			_, err := os.Lstat(filepath.Join(ws, ".git"))
			hadGit := err == nil
			chmodAll(t, ws)
			marker := filepath.Join(ws, "marker")
			// The fake git directory is allowed (it is ordinary workspace
			// data); what must fail is pointing a .git file at it.
			args := append([]string{"--", "/toolbox", "batch"}, fakeGitdir("fake", marker)...)
			for _, p := range append(tc.probes, tc.reads...) {
				args = append(args, "::")
				for _, a := range p {
					args = append(args, strings.ReplaceAll(a, "MARKER", marker))
				}
			}
			img := testimage.ToolboxSpec(gitToolbox)
			// Content of its own, so that its image ID is not shared with
			// the toolbox tag (a rebuild of that tag removes its old ID).
			img.Files = map[string][]byte{"/purpose": []byte(gitToolbox)}
			tag := testimage.Ensure(t, img)
			run := []string{"run", "--image", tag, "--workspace", ws, "--user", "1000:1000", "--memory", "256m", "--network", "public"}
			code, out, errOut := cli(context.Background(), nil, append(run, args...)...)
			assert.Equal(t, code, 0, "stderr: %s", errOut)

			results := probeResult.FindAllStringSubmatch(out, -1)
			first := 5 // after the fake git directory's probes
			assert.Assert(t, is.Len(results, first+len(tc.probes)+len(tc.reads)), out)
			for i, r := range results[:first] {
				assert.Check(t, is.Equal(r[2], "ok"), "setup probe %d: %s", i, out)
			}
			for i, p := range tc.probes {
				r := results[first+i][2]
				assert.Check(t, strings.Contains(r, "read-only file system") || strings.Contains(r, "device or resource busy") ||
					strings.Contains(r, "file exists"),
					"%q: want a read-only failure, got %q", p, r)
			}
			for i, p := range tc.reads {
				assert.Check(t, is.Equal(results[first+len(tc.probes)+i][2], "ok"), "%q", p)
			}

			// The host's plain git runs nothing.
			if len(tc.statusIn) == 0 {
				tc.statusIn = []string{"."}
			}
			for _, dir := range tc.statusIn {
				hostGit(t, filepath.Join(ws, dir), "status")
			}
			_, err = os.Stat(marker)
			assert.Check(t, os.IsNotExist(err), "the host's git status ran a command planted by the sandbox")
			if !hadGit {
				// The empty mount point that kept .git out is gone too.
				_, err := os.Lstat(filepath.Join(ws, ".git"))
				assert.Check(t, os.IsNotExist(err), "the run left a .git in a tree that had none")
			}
		})
	}
}

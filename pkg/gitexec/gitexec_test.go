package gitexec_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/gitexec"
)

// planting is one way a sandbox could leave a command for the host's git.
type planting struct {
	name string
	// plant edits the repository in dir so that git runs `touch MARKER`.
	plant func(t *testing.T, dir, touch string)
	// trigger is the git command that runs the planted command.
	trigger []string
}

func appendConfig(t *testing.T, dir, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, ".git", "config"), os.O_APPEND|os.O_WRONLY, 0)
	assert.NilError(t, err)
	_, err = f.WriteString(text)
	assert.NilError(t, err)
	assert.NilError(t, f.Close())
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	assert.NilError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	assert.NilError(t, os.WriteFile(path, []byte(data), mode))
}

// hook is a hook script that touches the marker.
func hook(touch string) string { return "#!/bin/sh\n" + touch + "\n" }

var plantings = []planting{
	{"fsmonitor", func(t *testing.T, dir, touch string) {
		appendConfig(t, dir, fmt.Sprintf("[core]\n\tfsmonitor = %q\n", touch))
	}, []string{"status"}},
	{"hooks path", func(t *testing.T, dir, touch string) {
		writeFile(t, filepath.Join(dir, "hooks-elsewhere", "pre-commit"), hook(touch), 0o755)
		appendConfig(t, dir, "[core]\n\thooksPath = hooks-elsewhere\n")
	}, []string{"commit", "-qam", "change"}},
	{"pre-commit hook", func(t *testing.T, dir, touch string) {
		writeFile(t, filepath.Join(dir, ".git", "hooks", "pre-commit"), hook(touch), 0o755)
	}, []string{"commit", "-qam", "change"}},
	{"clean filter", func(t *testing.T, dir, touch string) {
		writeFile(t, filepath.Join(dir, ".gitattributes"), "*.txt filter=planted\n", 0o644)
		appendConfig(t, dir, fmt.Sprintf("[filter \"planted\"]\n\tclean = %q\n", touch+"; cat"))
	}, []string{"add", "-A"}},
	{"filter process", func(t *testing.T, dir, touch string) {
		writeFile(t, filepath.Join(dir, ".gitattributes"), "*.txt filter=planted\n", 0o644)
		appendConfig(t, dir, fmt.Sprintf("[filter \"planted\"]\n\tprocess = %q\n\trequired = true\n", touch+"; exit 1"))
	}, []string{"add", "-A"}},
	{"filter named with =", func(t *testing.T, dir, touch string) {
		// `-c filter.a=b.clean=` would set filter.a to "b.clean=".
		writeFile(t, filepath.Join(dir, ".gitattributes"), "*.txt filter=a=b\n", 0o644)
		appendConfig(t, dir, fmt.Sprintf("[filter \"a=b\"]\n\tclean = %q\n", touch+"; cat"))
	}, []string{"add", "-A"}},
	{"textconv", func(t *testing.T, dir, touch string) {
		writeFile(t, filepath.Join(dir, ".gitattributes"), "*.txt diff=planted\n", 0o644)
		appendConfig(t, dir, fmt.Sprintf("[diff \"planted\"]\n\ttextconv = %q\n", touch+"; cat"))
	}, []string{"diff"}},
	{"diff driver command", func(t *testing.T, dir, touch string) {
		writeFile(t, filepath.Join(dir, ".gitattributes"), "*.txt diff=planted\n", 0o644)
		appendConfig(t, dir, fmt.Sprintf("[diff \"planted\"]\n\tcommand = %q\n", touch))
	}, []string{"diff"}},
	{"external diff", func(t *testing.T, dir, touch string) {
		appendConfig(t, dir, fmt.Sprintf("[diff]\n\texternal = %q\n", touch))
	}, []string{"diff"}},
	{"included config", func(t *testing.T, dir, touch string) {
		// An include pointing at a worktree file.
		writeFile(t, filepath.Join(dir, "included.cfg"), fmt.Sprintf("[diff]\n\texternal = %q\n", touch), 0o644)
		appendConfig(t, dir, "[include]\n\tpath = ../included.cfg\n")
	}, []string{"diff"}},
}

// setupHome gives git an empty global configuration with an identity, so
// that the host's own ~/.gitconfig plays no part.
func setupHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	writeFile(t, filepath.Join(home, ".gitconfig"), "[user]\n\tname = test\n\temail = test@example.invalid\n[init]\n\tdefaultBranch = main\n", 0o644)
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "GIT_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

// newRepo makes a repository with a committed file, then changes the file
// (with an old mtime, so that git must read it rather than trust the index).
func newRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	plainGit(t, dir, "init", "-q")
	writeFile(t, filepath.Join(dir, "a.txt"), "one\n", 0o644)
	plainGit(t, dir, "add", "a.txt")
	plainGit(t, dir, "commit", "-qm", "init")
	writeFile(t, filepath.Join(dir, "a.txt"), "one\ntwo\n", 0o644)
	return dir
}

// plainGit runs git as a person would, with nothing disabled.
func plainGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func TestPlantedCommandsRunUnderPlainGitButNotHere(t *testing.T) {
	setupHome(t)
	for _, p := range plantings {
		t.Run(p.name, func(t *testing.T) {
			// The same planting, in two fresh repositories.
			run := func(t *testing.T, git func(dir string) string) (bool, string) {
				dir := newRepo(t)
				marker := filepath.Join(t.TempDir(), "ran")
				p.plant(t, dir, "touch "+marker)
				out := git(dir)
				_, err := os.Stat(marker)
				return err == nil, out
			}

			ran, out := run(t, func(dir string) string { return plainGit(t, dir, p.trigger...) })
			assert.Assert(t, ran, "plain git %s did not run the planted command, so this test proves nothing: %s", p.trigger, out)

			ran, out = run(t, func(dir string) string {
				out, err := gitexec.Output(context.Background(), dir, p.trigger...)
				assert.Check(t, err)
				return string(out)
			})
			assert.Check(t, !ran, "gitexec ran the planted command: %s", out)
		})
	}
}

func TestEveryCommandOfAFixFlowRunsNothing(t *testing.T) {
	setupHome(t)
	dir := newRepo(t)
	marker := filepath.Join(t.TempDir(), "ran")
	for _, p := range plantings {
		p.plant(t, dir, "touch "+marker)
	}
	ctx := context.Background()
	for _, args := range [][]string{
		{"status", "--porcelain"},
		{"diff"},
		{"diff", "--stat", "HEAD"},
		{"add", "-A"},
		{"diff", "--cached"},
		{"commit", "-qm", "fix"},
		{"log", "-p", "-1"},
		{"show", "HEAD"},
		{"rev-parse", "HEAD"},
	} {
		_, err := gitexec.Output(ctx, dir, args...)
		assert.Check(t, err, "git %s", args)
		_, statErr := os.Stat(marker)
		assert.Assert(t, os.IsNotExist(statErr), "git %s ran a planted command", args)
	}
	// The commit happened and holds the change.
	out, err := gitexec.Output(ctx, dir, "show", "--format=%s", "--stat", "HEAD")
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(out), "fix"))
	assert.Check(t, is.Contains(string(out), "a.txt"))
}

func TestCommandRefusesGlobalOptions(t *testing.T) {
	for _, args := range [][]string{nil, {"-C", "/", "status"}, {"--git-dir=/x", "status"}, {"-c", "core.fsmonitor=x", "status"}} {
		_, err := gitexec.Command(context.Background(), t.TempDir(), args...)
		assert.Check(t, is.ErrorContains(err, "want a git subcommand first"), "%q", args)
	}
}

func TestCommandIgnoresCallersGitEnvironment(t *testing.T) {
	setupHome(t)
	dir := newRepo(t)
	marker := filepath.Join(t.TempDir(), "ran")
	// Inherited configuration or another git directory must not reach git.
	t.Setenv("GIT_CONFIG_PARAMETERS", fmt.Sprintf("'core.fsmonitor'='touch %s'", marker))
	t.Setenv("GIT_DIR", filepath.Join(t.TempDir(), "elsewhere"))
	out, err := gitexec.Output(context.Background(), dir, "status", "--porcelain")
	assert.NilError(t, err)
	assert.Check(t, is.Equal(string(out), " M a.txt\n"))
	_, statErr := os.Stat(marker)
	assert.Check(t, os.IsNotExist(statErr))
}

// BenchmarkStatus compares `git status` through Command (which lists the
// configuration first) with plain git on the same repository.
func BenchmarkStatus(b *testing.B) {
	dir := b.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"-c", "user.name=b", "-c", "user.email=b@example.invalid", "commit", "-q", "--allow-empty", "-m", "i"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %s: %v: %s", args, err, out)
		}
	}
	b.Run("plain", func(b *testing.B) {
		for range b.N {
			cmd := exec.Command("git", "status", "--porcelain")
			cmd.Dir = dir
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gitexec", func(b *testing.B) {
		for range b.N {
			if _, err := gitexec.Output(context.Background(), dir, "status", "--porcelain"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

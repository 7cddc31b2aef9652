package action

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/org/sandbox-action/pkg/spec"
)

// ContextDir is where the sandbox sees the run's context, mounted
// read-only: the event and, for a review, package review's context files
// (pr.json, the diff to review, the schema). They never go into the
// workspace, which the agent can write and the pull request's author
// controls.
const ContextDir = "/context"

// contextEvent is the event payload's file in the context directory.
const contextEvent = "event.json"

// contextBase is the directory the run's context directory is made in: one
// that both this process and the Docker host see, as the sandbox mounts it
// by its host path. On a GitHub runner that is $HOME (/github/home, which
// the runner mounts from its temp directory). nektos/act sets no HOME for
// a container action (Docker's default, /, is on no mount) and mounts its
// run directory, which holds the event, at /var/run/act instead: the
// directory of GITHUB_EVENT_PATH is then taken (the runner's
// /github/workflow, act's /var/run/act/workflow). When neither is on a
// mount (or there are no mounts to tell: the action runs on the host),
// $HOME is kept, and a sandbox that cannot see it is refused with the
// mounts listed.
func (a *action) contextBase(paths pathMap) string {
	home := a.getenv("HOME")
	if len(paths) == 0 {
		return home
	}
	for _, d := range []string{home, eventDir(a.getenv("GITHUB_EVENT_PATH"))} {
		if d == "" || d == "/" {
			continue
		}
		if _, err := paths.host(d); err == nil {
			return d
		}
	}
	return home
}

// eventDir is the directory of the event file p, if p names one.
func eventDir(p string) string {
	if p == "" {
		return ""
	}
	return filepath.Dir(p)
}

// writeContext writes the context files (the event, and files, a review's
// context files) into a new directory under base (see contextBase) and
// returns it with a function that removes it.
func (a *action) writeContext(base string, files map[string][]byte) (dir string, remove func(), err error) {
	if base == "" {
		base = os.TempDir()
	}
	dir, err = os.MkdirTemp(base, "sandbox-context-")
	if err != nil {
		return "", func() {}, fmt.Errorf("context directory: %w", err)
	}
	remove = func() { _ = os.RemoveAll(dir) }
	// The sandbox runs as the workspace owner, not as this process's user.
	if err := os.Chmod(dir, 0o755); err != nil {
		remove()
		return "", func() {}, err
	}
	all := map[string][]byte{}
	if p := a.getenv("GITHUB_EVENT_PATH"); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			all[contextEvent] = b
		}
	}
	for name, b := range files {
		all[name] = b
	}
	for name, b := range all {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			remove()
			return "", func() {}, fmt.Errorf("context directory: %w", err)
		}
	}
	return dir, remove, nil
}

// contextMount mounts dir read-only at ContextDir.
func contextMount(hostDir string) spec.Mount {
	return spec.Mount{Source: hostDir, Target: ContextDir, ReadOnly: true}
}

package action

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

// actMounts are the mounts nektos/act gives a container action run in a
// job container with a bound workdir (act -b -P <platform>=<image>).
var actMounts = pathMap{
	{Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock"},
	{Source: "/home/me/repo", Destination: "/home/me/repo"},
	{Source: "/var/lib/docker/volumes/act-toolcache/_data", Destination: "/opt/hostedtoolcache"},
	{Source: "/var/lib/docker/volumes/act-job-env/_data", Destination: "/var/run/act"},
}

// The run's context directory must be on a mount from the Docker host, or
// the sandbox cannot mount it: $HOME on a runner, the event's directory
// under nektos/act, which sets no HOME.
func TestTheContextDirectoryIsMadeWhereTheDockerHostSeesIt(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env        map[string]string
		paths      pathMap
		want       string
		wantOnHost string
	}{
		{name: "the runner: $HOME", paths: runnerMounts,
			env:  map[string]string{"HOME": "/github/home", "GITHUB_EVENT_PATH": "/github/workflow/event.json"},
			want: "/github/home", wantOnHost: "/home/runner/work/_temp/_github_home"},
		{name: "nektos/act: no HOME (Docker's /), the event's directory", paths: actMounts,
			env:  map[string]string{"HOME": "/", "GITHUB_EVENT_PATH": "/var/run/act/workflow/event.json"},
			want: "/var/run/act/workflow", wantOnHost: "/var/lib/docker/volumes/act-job-env/_data/workflow"},
		{name: "neither on a mount: $HOME, refused later with the mounts", paths: actMounts,
			env:  map[string]string{"HOME": "/root", "GITHUB_EVENT_PATH": "/tmp/event.json"},
			want: "/root"},
		{name: "on the host: $HOME", paths: nil,
			env:  map[string]string{"HOME": "/home/me", "GITHUB_EVENT_PATH": "/tmp/event.json"},
			want: "/home/me", wantOnHost: "/home/me"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &action{getenv: func(k string) string { return tc.env[k] }}
			got := a.contextBase(tc.paths)
			assert.Equal(t, got, tc.want)
			if tc.wantOnHost != "" {
				onHost, err := tc.paths.host(got)
				assert.NilError(t, err)
				assert.Equal(t, onHost, tc.wantOnHost)
			}
		})
	}
}

// Under nektos/act the context directory is made beside the event file,
// among the runner's other files (its env and output files): the sandbox
// must get a directory of its own holding a copy of the event, never the
// event's directory or the event file itself.
func TestTheContextDirectoryBesideTheEventHoldsOnlyACopy(t *testing.T) {
	tmp := t.TempDir()
	workflow := filepath.Join(tmp, "act", "workflow")
	assert.NilError(t, os.MkdirAll(workflow, 0o755))
	event := filepath.Join(workflow, "event.json")
	assert.NilError(t, os.WriteFile(event, []byte(`{"action":"opened"}`), 0o600))
	assert.NilError(t, os.WriteFile(filepath.Join(workflow, "envs.txt"), []byte("SECRET=1\n"), 0o600))
	env := map[string]string{"HOME": "/", "GITHUB_EVENT_PATH": event}
	a := &action{getenv: func(k string) string { return env[k] }}
	paths := pathMap{{Source: "/host/act", Destination: filepath.Join(tmp, "act")}}

	base := a.contextBase(paths)
	assert.Equal(t, base, workflow)
	dir, remove, err := a.writeContext(base, map[string][]byte{"diff.patch": []byte("diff")})
	assert.NilError(t, err)
	assert.Check(t, filepath.Dir(dir) == workflow && dir != workflow, dir)
	entries, err := os.ReadDir(dir)
	assert.NilError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		fi, err := os.Lstat(filepath.Join(dir, e.Name()))
		assert.NilError(t, err)
		assert.Check(t, fi.Mode().IsRegular(), "%s: %s", e.Name(), fi.Mode())
	}
	assert.DeepEqual(t, names, []string{"diff.patch", "event.json"})
	// A copy: the event file is neither the same file nor changed.
	a1, _ := os.Stat(event)
	a2, _ := os.Stat(filepath.Join(dir, "event.json"))
	assert.Check(t, !os.SameFile(a1, a2))
	m := contextMount(dir)
	assert.Check(t, m.ReadOnly)
	assert.Check(t, m.Source == dir)
	remove()
	_, err = os.Stat(dir)
	assert.Check(t, os.IsNotExist(err))
	b, err := os.ReadFile(event)
	assert.NilError(t, err)
	assert.Check(t, string(b) == `{"action":"opened"}`)
	_, err = os.Stat(filepath.Join(workflow, "envs.txt"))
	assert.NilError(t, err)
}

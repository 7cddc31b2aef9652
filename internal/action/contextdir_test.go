package action

import (
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

package action

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/google/go-cmp/cmp"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/spec"
)

// The mounts GitHub's runner gives a container action.
var runnerMounts = pathMap{
	{Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock"},
	{Source: "/home/runner/work/_temp/_github_home", Destination: "/github/home"},
	{Source: "/home/runner/work/_temp/_github_workflow", Destination: "/github/workflow"},
	{Source: "/home/runner/work/_temp/_runner_file_commands", Destination: "/github/file_commands"},
	{Source: "/home/runner/work/repo/repo", Destination: "/github/workspace"},
}

func TestHostPathsOfTheRunnersMounts(t *testing.T) {
	for _, tc := range []struct{ in, want, wantErr string }{
		{in: "/github/workspace", want: "/home/runner/work/repo/repo"},
		{in: "/github/workspace/.git", want: "/home/runner/work/repo/repo/.git"},
		{in: "/github/home/sandbox-context-1", want: "/home/runner/work/_temp/_github_home/sandbox-context-1"},
		{in: "/github/workspacex", wantErr: "is not on a mount"},
		{in: "/tmp/x", wantErr: "is not on a mount"},
	} {
		got, err := runnerMounts.host(tc.in)
		if tc.wantErr != "" {
			assert.Check(t, is.ErrorContains(err, tc.wantErr), tc.in)
			continue
		}
		assert.Check(t, is.Equal(got, tc.want), tc.in)
	}
	// Outside a container, paths are the host's.
	got, err := pathMap(nil).host("/tmp/x")
	assert.NilError(t, err)
	assert.Equal(t, got, "/tmp/x")
}

func TestTranslateRewritesEveryMountedPath(t *testing.T) {
	r := spec.Run{Sandbox: spec.RunSpec{
		Workspace: "/github/workspace",
		Mounts: []spec.Mount{
			{Source: "/github/workspace/.git", Target: "/workspace/.git", ReadOnly: true},
			{Source: "/github/home/sandbox-context-1", Target: ContextDir, ReadOnly: true},
		},
	}}
	assert.NilError(t, translate(&r, runnerMounts))
	assert.Check(t, is.Equal(r.Sandbox.Workspace, "/home/runner/work/repo/repo"))
	assert.Check(t, is.Equal(r.Sandbox.Mounts[0].Source, "/home/runner/work/repo/repo/.git"))
	assert.Check(t, is.Equal(r.Sandbox.Mounts[1].Source, "/home/runner/work/_temp/_github_home/sandbox-context-1"))

	bad := spec.Run{Sandbox: spec.RunSpec{Workspace: "/somewhere/else"}}
	assert.Check(t, is.ErrorContains(translate(&bad, runnerMounts), "workspace: /somewhere/else is not on a mount"))
	_ = engine.Bind{}
}

// fakeDaemon is a daemon's containers, as finding the action's own
// container sees them.
type fakeDaemon struct {
	containers map[string]engine.Self
	// files are the paths each container's filesystem holds.
	files map[string][]string
	// networkOf names the container whose network each one shares.
	networkOf map[string]string
}

func (f fakeDaemon) InspectSelf(_ context.Context, id string) (engine.Self, error) {
	s, ok := f.containers[id]
	if !ok {
		return engine.Self{}, cerrdefs.ErrNotFound
	}
	return s, nil
}

func (f fakeDaemon) HasPath(_ context.Context, id, path string) (bool, error) {
	return slices.Contains(f.files[id], path), nil
}

func (f fakeDaemon) NetworkGuests(_ context.Context, s engine.Self) ([]string, error) {
	var ids []string
	for id, owner := range f.networkOf {
		if owner == s.ID {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func TestTheActionFindsItsOwnContainerNotTheOneItsHostnameNames(t *testing.T) {
	const (
		actionID = "aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111"
		jobID    = "bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222"
		marker   = "/.sandbox-action-self-123"
	)
	jobMounts := []engine.Bind{{Source: "/var/lib/docker/volumes/act-toolcache/_data", Destination: "/opt/hostedtoolcache"}}
	action := engine.Self{ID: actionID, Name: "act-step", Image: "sha256:action", Binds: runnerMounts}
	job := engine.Self{ID: jobID, Name: "act-job", Image: "sha256:node", Binds: jobMounts}
	// The runner's case: $HOSTNAME is the action's container.
	runner := fakeDaemon{
		containers: map[string]engine.Self{actionID[:12]: action, actionID: action},
		files:      map[string][]string{actionID: {marker}},
	}
	// nektos/act and job containers: the action shares the job
	// container's network, and so its hostname.
	shared := fakeDaemon{
		containers: map[string]engine.Self{jobID[:12]: job, jobID: job, actionID: action},
		files:      map[string][]string{actionID: {marker}},
		networkOf:  map[string]string{actionID: jobID},
	}
	// The same, but nothing sharing the network holds the marker.
	stranger := fakeDaemon{
		containers: map[string]engine.Self{jobID[:12]: job, jobID: job},
		networkOf:  map[string]string{},
	}
	for _, tc := range []struct {
		name     string
		d        fakeDaemon
		hostname string
		probe    selfProbe
		want     self
		wantNote string
		wantErr  string
	}{
		{name: "the runner: the hostname's container holds the marker", d: runner, hostname: actionID[:12], probe: selfProbe{marker: marker},
			want: self{paths: runnerMounts, image: "sha256:action", inContainer: true}, wantNote: "own container aaaaaaaaaaaa (it holds the file " + marker},
		{name: "shared network: the guest holding the marker", d: shared, hostname: jobID[:12], probe: selfProbe{marker: marker},
			want: self{paths: runnerMounts, image: "sha256:action", inContainer: true}, wantNote: "sharing the network of bbbbbbbbbbbb that $HOSTNAME names"},
		{name: "shared network, no marker: the cgroup's id", d: shared, hostname: jobID[:12], probe: selfProbe{cgroupID: actionID},
			want: self{paths: runnerMounts, image: "sha256:action", inContainer: true}, wantNote: "its id is this process's cgroup"},
		{name: "no container of ours: a clear error", d: stranger, hostname: jobID[:12], probe: selfProbe{marker: marker},
			wantErr: "$HOSTNAME names container bbbbbbbbbbbb (act-job), which is not the action's own (it lacks the file " + marker},
		{name: "nothing to verify with: the hostname's, said so", d: runner, hostname: actionID[:12],
			want: self{paths: runnerMounts, image: "sha256:action", inContainer: true}, wantNote: "not verified"},
		{name: "not a container of this daemon", d: runner, hostname: "build-host-7", probe: selfProbe{marker: marker}},
		{name: "no hostname", d: runner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probed := false
			got, err := selfContainer(context.Background(), tc.d, tc.hostname, func() (selfProbe, func()) {
				probed = true
				return tc.probe, func() {}
			})
			if tc.wantErr != "" {
				assert.Check(t, is.ErrorContains(err, tc.wantErr))
				return
			}
			assert.NilError(t, err)
			assert.Check(t, is.Contains(got.note, tc.wantNote))
			got.note = ""
			assert.Check(t, is.DeepEqual(got, tc.want, cmp.AllowUnexported(self{})))
			// Nothing is written outside a container.
			assert.Check(t, is.Equal(probed, tc.want.inContainer))
		})
	}
}

func TestCgroupContainerID(t *testing.T) {
	const id = "4f1b1a0c2f9f1c43a5b9c17b0b6a2c9f2a8e5e2d6c0f3b7a1d9e8c7b6a5f4e3d"
	for _, tc := range []struct{ name, in, want string }{
		{"cgroup v1", "12:memory:/docker/" + id + "\n11:pids:/docker/" + id + "\n", id},
		{"cgroup v2 without a namespace", "0::/system.slice/docker-" + id + ".scope\n", id},
		{"nested: the innermost", "1:cpu:/docker/" + strings.Repeat("0", 64) + "/docker/" + id + "\n", id},
		{"cgroup v2 namespaced", "0::/\n", ""},
		{"a host process", "0::/user.slice/user-1000.slice/session-3.scope\n", ""},
	} {
		assert.Check(t, is.Equal(cgroupContainerID(tc.in), tc.want), tc.name)
	}
}

func TestProbeSelfWritesAMarkerItRemoves(t *testing.T) {
	root := t.TempDir()
	cg := filepath.Join(t.TempDir(), "cgroup")
	assert.NilError(t, os.WriteFile(cg, []byte("0::/\n"), 0o644))
	p, done := probeSelf(root, cg)
	assert.Check(t, is.Equal(p.cgroupID, ""))
	assert.Assert(t, strings.HasPrefix(p.marker, root+"/"))
	_, err := os.Stat(p.marker)
	assert.NilError(t, err)
	done()
	_, err = os.Stat(p.marker)
	assert.Check(t, os.IsNotExist(err))

	// A root it cannot write: no marker, no error.
	p, done = probeSelf(filepath.Join(root, "missing"), cg)
	defer done()
	assert.Check(t, is.Equal(p.marker, ""))
}

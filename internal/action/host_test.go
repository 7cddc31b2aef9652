package action

import (
	"testing"

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

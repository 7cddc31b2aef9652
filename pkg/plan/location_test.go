package plan

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/spec"
)

// A workspace is mounted writable: system locations, the Docker socket's
// directory, the root and home directories are refused, named in the error,
// however they are spelled (symlinks, trailing slashes, "..").
func TestWorkspaceRefusesSystemLocations(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home", "me")
	assert.NilError(t, os.MkdirAll(home, 0o755))
	t.Setenv("HOME", home)
	sockDir := t.TempDir()
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(sockDir, "docker.sock"))
	link := filepath.Join(t.TempDir(), "etc-link")
	assert.NilError(t, os.Symlink("/etc", link))
	for _, tc := range []struct{ dir, want string }{
		{"/", "workspace / is the root directory"},
		{"/proc", "workspace /proc is a system location"},
		{"/proc/self", "lies inside the system location /proc"},
		{"/sys", "workspace /sys is a system location"},
		{"/dev", "workspace /dev is a system location"},
		{"/run", "workspace /run is a system location"},
		{"/var/run/", "workspace /run is a system location"},
		{"/etc", "workspace /etc is a system location"},
		{"/etc/../etc/ssl", "lies inside the system location /etc"},
		{link, "workspace /etc is a system location"},
		{"/boot", "workspace /boot is a system location"},
		{"/var", "workspace /var contains the system location /var/"},
		{"/var/lib", "contains the system location /var/lib/docker"},
		{sockDir, "is a system location"},
		{home, "is a home directory"},
		{filepath.Dir(home), "contains the home directory " + home},
	} {
		if _, err := os.Stat(tc.dir); err != nil {
			// /boot or /var/lib/docker may be missing in a container; what
			// exists on every Linux host is enough.
			assert.Check(t, tc.dir == "/boot" || strings.HasPrefix(tc.dir, "/var/lib"), "%s: %v", tc.dir, err)
			continue
		}
		_, _, err := Workspace(tc.dir)
		assert.Check(t, is.ErrorContains(err, tc.want), "workspace %s", tc.dir)
	}

	// A project inside the home directory is what people use.
	project := filepath.Join(home, "src", "project")
	assert.NilError(t, os.MkdirAll(project, 0o755))
	_, _, err := Workspace(project)
	assert.Check(t, is.Nil(err))
}

func TestCheckLocationUsesTheDockerSocketsDirectory(t *testing.T) {
	dir := t.TempDir()
	err := checkLocation(dir, "", filepath.Join(dir, "docker.sock"))
	assert.Check(t, is.ErrorContains(err, "is a system location"))
	err = checkLocation(filepath.Dir(dir), "", filepath.Join(dir, "docker.sock"))
	assert.Check(t, is.ErrorContains(err, "contains the system location "+dir))
	assert.Check(t, is.Equal(DockerSocket(func(string) string { return "" }), "/var/run/docker.sock"))
	assert.Check(t, is.Equal(DockerSocket(func(string) string { return "tcp://127.0.0.1:2375" }), ""))
	assert.Check(t, is.Equal(DockerSocket(func(string) string { return "unix:///x/d.sock" }), "/x/d.sock"))
}

// A socket directly in / (a mistyped DOCKER_HOST such as
// unix:///nonexistent) must not make every workspace "inside a system
// location": the run goes on to say that no daemon answers.
func TestCheckLocationSocketInRoot(t *testing.T) {
	err := checkLocation(t.TempDir(), "", "/nonexistent")
	assert.Check(t, is.Nil(err))
}

// A unix socket at the workspace's top two levels would let the sandbox
// talk to a host service (a bind-mounted docker.sock, an SSH agent).
func TestWorkspaceRefusesUnixSockets(t *testing.T) {
	listen := func(path string) {
		t.Helper()
		assert.NilError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		l, err := net.Listen("unix", path)
		assert.NilError(t, err)
		t.Cleanup(func() { l.Close() })
	}
	// Socket paths are limited to about 108 bytes: keep them short.
	short := func() string {
		d, err := os.MkdirTemp("", "ws")
		assert.NilError(t, err)
		t.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	for _, rel := range []string{"d.sock", "run/d.sock"} {
		ws := short()
		listen(filepath.Join(ws, rel))
		_, _, err := Workspace(ws)
		assert.Check(t, is.ErrorContains(err, "holds the unix socket "+filepath.Join(ws, rel)), rel)
	}
	ws := short()
	listen(filepath.Join(ws, "a", "b", "deep.sock"))
	_, _, err := Workspace(ws)
	assert.Check(t, is.Nil(err), "a socket below the top two levels is not looked for")
}

// An explicit user may not run with root's group or the Docker socket's
// group (members answer the Engine API: root on the host) unless root is
// relaxed; a UID alone gets the image's group or 0, so it is refused too.
func TestExplicitUserGroup(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	old := socketGroup
	socketGroup = func() (string, uint32, bool) { return sock, 998, true }
	t.Cleanup(func() { socketGroup = old })
	for _, tc := range []struct {
		user  string
		relax bool
		want  string
	}{
		{"1000:1000", false, ""},
		{"1000:998", false, `user "1000:998" (from flag) runs with group 998, which owns the Docker socket ` + sock},
		{"1000:0", false, `user "1000:0" (from flag) runs with group 0 (root)`},
		{"1000", false, `user "1000" (from flag) gives no group`},
		{"1000:998", true, ""},
		{"1000:0", true, ""},
		{"0:0", true, ""},
	} {
		in := agentInput(t, "claude", spec.Public)
		user, network, image := tc.user, spec.Public, "agents:1"
		layer := features.Layer{Settings: features.Settings{Image: &image, Network: &network, User: &user}}
		if tc.relax {
			layer.Settings.Relax = features.Relax{Root: new(true)}
		}
		r, err := features.Resolve(features.Input{Flags: layer})
		assert.NilError(t, err)
		in.Resolved = r
		p, err := Build(in)
		if tc.want == "" {
			assert.Check(t, is.Nil(err), tc.user)
			assert.Check(t, is.Equal(p.Run.Sandbox.User, tc.user))
			continue
		}
		assert.Check(t, is.ErrorContains(err, tc.want), tc.user)
	}
}

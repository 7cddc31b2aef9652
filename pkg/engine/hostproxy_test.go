package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/spec"
)

// The host transport's sockets are the sandbox user's alone: owned by that
// user, mode 0600. A process that is not root can give a socket only to
// itself; for a sandbox running as anyone else it refuses, rather than
// leave a socket through which every local user who finds the directory
// could use the run's proxy.
func TestHostSocketIsTheSandboxUsersAlone(t *testing.T) {
	needRoot(t, "binding as other users needs root")
	const sandboxUID = 1000
	for _, tc := range []struct {
		name    string
		as      int
		wantErr string
	}{
		{"bound by root", 0, ""},
		{"bound by the sandbox's own user", sandboxUID, ""},
		{"bound by another user", 1001, "this process (uid 1001, not root) cannot make a socket that user's alone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := shortTempDir(t)
			assert.NilError(t, os.Chown(dir, tc.as, tc.as))
			path := filepath.Join(dir, "proxy.sock")
			out, err := bindAs(t, tc.as, path, sandboxUID)
			fi, statErr := os.Lstat(path)
			if tc.wantErr != "" {
				assert.Check(t, err != nil, "bound a socket another user's sandbox could not have alone")
				assert.Check(t, is.Contains(out, tc.wantErr))
				assert.Check(t, is.Contains(out, "--proxy-transport container"))
				if statErr == nil {
					assert.Check(t, fi.Mode().Perm()&0o077 == 0, "a socket of mode %v is left", fi.Mode())
				}
				return
			}
			assert.NilError(t, err, out)
			assert.NilError(t, statErr)
			assert.Check(t, is.Equal(fi.Mode().Perm(), os.FileMode(0o600)))
			st := fi.Sys().(*syscall.Stat_t)
			assert.Check(t, is.Equal(int(st.Uid), sandboxUID))
		})
	}
}

// bindAs runs bindSocket(path, uid, uid) in this test binary as user as
// (see childBindEnv) and returns its stderr.
func bindAs(t *testing.T, as int, path string, uid int) (string, error) {
	t.Helper()
	// Run through a descriptor opened here: the user may not reach the
	// test binary's directory.
	bin, err := os.Open(os.Args[0])
	assert.NilError(t, err)
	defer bin.Close()
	cmd := exec.Command("/proc/self/fd/3", "-test.run=^$")
	cmd.ExtraFiles = []*os.File{bin}
	cmd.Env = append(os.Environ(), childBindEnv+"="+path+" "+strconv.Itoa(uid)+" "+strconv.Itoa(uid))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(as), Gid: uint32(as), Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The run's socket directory is made fresh: whatever someone else put at its
// path beforehand (a symlink to a directory of theirs, a directory with
// their own socket in it) fails the run, and nothing of the run's lands
// where it points.
func TestHostProxyRefusesAPlantedSocketDirectory(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, dir, elsewhere string)
	}{
		{"a symlink", func(t *testing.T, dir, elsewhere string) {
			assert.NilError(t, os.Symlink(elsewhere, dir))
		}},
		{"a directory", func(t *testing.T, dir, elsewhere string) {
			assert.NilError(t, os.Mkdir(dir, 0o777))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := shortTempDir(t)
			elsewhere := shortTempDir(t)
			dir := filepath.Join(home, "sandbox-0123456789ab")
			tc.plant(t, dir, elsewhere)
			h := &spec.HostProxy{Binary: "/nonexistent/sandbox", Dir: dir, Args: []string{"proxy"}}
			s := spec.RunSpec{User: "1001:1001", Egress: &spec.Egress{Source: dir, Proxy: true, Gateway: true, Forwarder: "/nonexistent/sandbox"}}
			hp, err := startHostProxy(h, s)
			if hp != nil {
				hp.close()
			}
			assert.Check(t, err != nil, "the proxy started in a planted directory")
			for _, d := range []string{elsewhere, dir} {
				entries, _ := os.ReadDir(d)
				assert.Check(t, is.Len(entries, 0), "%s holds %v", d, entries)
			}
		})
	}
}

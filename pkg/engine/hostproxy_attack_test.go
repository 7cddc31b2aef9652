package engine

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/spec"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"
)

// connectAs connects to the unix socket at path as user as, in this test
// binary (see childConnectEnv), and returns its stderr.
func connectAs(t *testing.T, as int, path string) (string, error) {
	t.Helper()
	bin, err := os.Open(os.Args[0])
	assert.NilError(t, err)
	defer bin.Close()
	cmd := exec.Command("/proc/self/fd/3", "-test.run=^$")
	cmd.ExtraFiles = []*os.File{bin}
	cmd.Env = append(os.Environ(), childConnectEnv+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(as), Gid: uint32(as), Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Started as root, the host proxy runs as nobody: a uid it shares with
// whatever else runs as nobody on the host (daemons, NFS's squashed root,
// every other run's host proxy, any of which a flaw may hand to an
// attacker). None of them, and no other local user, may use the run's
// sockets or read the model key out of the proxy: from its environment,
// where it used to arrive, or its memory.
func TestHostProxyIsOutOfOtherLocalUsersReach(t *testing.T) {
	needRoot(t, "the proxy runs as nobody only when started as root")
	key := "sk-ant-not-a-real-key-" + randomID(t)
	token, err := egress.NewSessionToken()
	assert.NilError(t, err)
	h := &spec.HostProxy{
		Binary: hostBinary(t),
		Dir:    filepath.Join(shortTempDir(t), "egress"),
		Args:   egress.Command{}.Args(),
		Env:    []spec.EnvVar{{Name: egress.Anthropic.KeyEnv(), Value: key}, {Name: egress.TokenEnv, Value: token}},
	}
	hp, err := startHostProxy(h, spec.RunSpec{User: "1000:1000", Egress: &spec.Egress{Proxy: true, Gateway: true, Forwarder: h.Binary}})
	assert.NilError(t, err)
	defer func() { hp.stop(); hp.removeDir() }()

	// Serving: whatever it does at start is done.
	gateway := &http.Client{Timeout: time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(h.Dir, spec.GatewaySocket))
	}}}
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		resp, err := gateway.Get("http://gateway" + egress.HealthPath)
		if err != nil {
			return poll.Continue("%v", err)
		}
		resp.Body.Close()
		return poll.Success()
	}, poll.WithTimeout(10*time.Second))

	// Its sockets are the sandbox's user's alone: another local user, and
	// nobody (the proxy's own uid, shared), cannot use the run's allowlist
	// or its gateway.
	for _, sock := range []string{spec.ProxySocket, spec.GatewaySocket} {
		path := filepath.Join(h.Dir, sock)
		out, err := connectAs(t, 1000, path)
		assert.Check(t, err, "the sandbox's user could not connect to %s: %s", sock, out)
		for _, as := range []int{1001, proxyUID} {
			out, err := connectAs(t, as, path)
			assert.Check(t, err != nil, "uid %d connected to %s", as, sock)
			assert.Check(t, is.Contains(out, "permission denied"), "uid %d, %s", as, sock)
		}
	}

	pid := strconv.Itoa(hp.cmd.Process.Pid)
	// Not even for the moment between its exec and its first instruction,
	// when it is still dumpable: the key is never in its environment
	// block, which is what /proc shows (as root can see).
	environ, err := os.ReadFile("/proc/" + pid + "/environ")
	assert.NilError(t, err)
	assert.Check(t, !is.Contains(string(environ), key)().Success(), "the key is in the proxy's environment block")
	assert.Check(t, !is.Contains(string(environ), token)().Success(), "the session token is in the proxy's environment block")
	for _, file := range []string{"environ", "cmdline", "maps"} {
		cat := exec.Command("cat", "/proc/"+pid+"/"+file)
		cat.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: proxyUID, Gid: proxyUID, Groups: []uint32{}}}
		out, err := cat.CombinedOutput()
		assert.Check(t, !is.Contains(string(out), key)().Success(), "nobody read the key from /proc/%s/%s", pid, file)
		if file != "cmdline" {
			// Readable is readable: environ and maps (the way to read
			// memory) are the owner's, and the owner is now root.
			assert.Check(t, err != nil, "nobody read /proc/%s/%s (%d bytes)", pid, file, len(out))
		}
	}
}

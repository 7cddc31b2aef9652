package egress

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/forwarder"
)

func TestListenUnixReplacesAStaleSocketAndLetsAnyUserConnect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "proxy.sock")
	assert.NilError(t, os.WriteFile(path, []byte("stale"), 0o600))
	ln, err := Listen("unix:" + path)
	assert.NilError(t, err)
	defer ln.Close()
	fi, err := os.Stat(path)
	assert.NilError(t, err)
	assert.Check(t, fi.Mode()&os.ModeSocket != 0)
	assert.Check(t, is.Equal(fi.Mode().Perm(), os.FileMode(0o666)))
	c, err := net.Dial("unix", path)
	assert.NilError(t, err)
	c.Close()
}

func TestListenInheritedDescriptor(t *testing.T) {
	parent, err := net.Listen("unix", filepath.Join(t.TempDir(), "gateway.sock"))
	assert.NilError(t, err)
	parent.(*net.UnixListener).SetUnlinkOnClose(false)
	f, err := parent.(*net.UnixListener).File()
	assert.NilError(t, err)
	// The parent's copy goes; the inherited one keeps the socket served.
	parent.Close()
	ln, err := Listen("fd:" + itoa(inherit(t, f)))
	assert.NilError(t, err)
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("x"))
			c.Close()
		}
	}()
	c, err := net.Dial("unix", ln.Addr().String())
	assert.NilError(t, err)
	// The client speaks first, as HTTP's do: the listener waits for its
	// first byte to tell a forwarder's handover from a request.
	_, err = c.Write([]byte("G"))
	assert.NilError(t, err)
	b := make([]byte, 1)
	_, err = c.Read(b)
	assert.NilError(t, err)
	c.Close()
}

func TestListenRefusesBadAddresses(t *testing.T) {
	notSocket, err := os.CreateTemp(t.TempDir(), "file")
	assert.NilError(t, err)
	defer notSocket.Close()
	for addr, want := range map[string]string{
		"unix:relative.sock":                "must be absolute",
		"fd:2":                              "want fd:N with N ≥ 3",
		"fd:x":                              "want fd:N with N ≥ 3",
		"fd:" + itoa(inherit(t, notSocket)): "not a listening socket",
		"unix:/no/such/dir/proxy.sock":      "no such file or directory",
	} {
		ln, err := Listen(addr)
		if err == nil {
			ln.Close()
		}
		assert.Check(t, is.ErrorContains(err, want), addr)
	}
}

func TestReadyLineAndStatsAreWhatTheProxyPrints(t *testing.T) {
	assert.Check(t, IsReadyLine([]byte(`{"time":"…","level":"INFO","msg":"listening","proxy":"unix:/x"}`)))
	assert.Check(t, !IsReadyLine([]byte(`{"msg":"stopped"}`)))
	rec := NewRecorder(slog.New(slog.DiscardHandler))
	rec.Record(Event{Component: "proxy", Host: "a.example", Port: 443, Decision: Deny, Status: 403})
	line, err := jsonLine(rec.Stats())
	assert.NilError(t, err)
	st, err := ParseStats(line)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(st.Proxy.Denied, int64(1)))
	_, err = ParseStats([]byte("not json"))
	assert.Check(t, is.ErrorContains(err, "egress stats"))
}

func itoa(n int) string { return strconv.Itoa(n) }

func jsonLine(v any) ([]byte, error) { return json.Marshal(v) }

// inherit hands f's descriptor over the way a child process inherits one: as
// a descriptor of its own, which Listen takes ownership of and closes. Passing
// f.Fd() itself would close the descriptor twice, the second time (f's Close
// or finalizer) whatever socket of another test has reused its number.
func inherit(t *testing.T, f *os.File) int {
	t.Helper()
	fd, err := syscall.Dup(int(f.Fd()))
	assert.NilError(t, err)
	assert.NilError(t, f.Close())
	return fd
}

// A private sandbox's forwarder hands its TCP connections over on the
// proxy's unix socket; the proxy then tunnels from that connection itself.
func TestProxyOnAUnixSocketTunnelsAHandedOverConnection(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer up.Close()
	go func() {
		if c, err := up.Accept(); err == nil {
			io.WriteString(c, "from upstream")
			c.Close()
		}
	}()
	al, err := ParseAllowlist([]string{"up.test"}, nil)
	assert.NilError(t, err)
	rec, _ := newTestRecorder()
	p := NewProxy(ProxyConfig{Allowlist: al, Recorder: rec, Dial: (&loopbackDialer{routes: map[string]string{"up.test:443": up.Addr().String()}}).Dial})
	path := filepath.Join(t.TempDir(), "proxy.sock")
	ln, err := Listen("unix:" + path)
	assert.NilError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Server{Proxy: p, ProxyListener: ln, ShutdownTimeout: testShutdownTimeout}).Run(ctx) }()
	defer func() { cancel(); assert.NilError(t, <-done) }()

	// The sandbox's side: a client on loopback, its connection accepted by
	// the forwarder and handed over.
	fwd, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer fwd.Close()
	client, err := net.Dial("tcp", fwd.Addr().String())
	assert.NilError(t, err)
	defer client.Close()
	accepted, err := fwd.Accept()
	assert.NilError(t, err)
	u, err := net.Dial("unix", path)
	assert.NilError(t, err)
	taken, err := forwarder.HandOver(u.(*net.UnixConn), accepted.(*net.TCPConn))
	assert.NilError(t, err)
	assert.Assert(t, taken, "the proxy refused the handover")
	accepted.Close()
	u.Close()

	_, err = io.WriteString(client, "CONNECT up.test:443 HTTP/1.1\r\nHost: up.test:443\r\n\r\n")
	assert.NilError(t, err)
	br := bufio.NewReader(client)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	assert.NilError(t, err)
	assert.Equal(t, resp.StatusCode, http.StatusOK)
	body, err := io.ReadAll(br)
	assert.NilError(t, err)
	assert.Equal(t, string(body), "from upstream")
}

package egress

import (
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
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

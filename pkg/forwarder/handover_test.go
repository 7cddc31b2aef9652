package forwarder

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// unixPair returns both ends of a new connection to a handover listener,
// as the listener accepts it (served) and as a client holds it.
func unixPair(t *testing.T, send func(client *net.UnixConn)) (served net.Conn, client *net.UnixConn) {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
	assert.NilError(t, err)
	hl := HandoverListener(ln)
	t.Cleanup(func() { hl.Close() })
	c, err := net.Dial("unix", ln.Addr().String())
	assert.NilError(t, err)
	client = c.(*net.UnixConn)
	t.Cleanup(func() { client.Close() })
	go send(client)
	served, err = hl.Accept()
	assert.NilError(t, err)
	t.Cleanup(func() { served.Close() })
	return served, client
}

func TestHandoverListenerTakesTheTCPConnectionHandedOver(t *testing.T) {
	tcpLn, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer tcpLn.Close()
	outer, err := net.Dial("tcp", tcpLn.Addr().String())
	assert.NilError(t, err)
	defer outer.Close()
	inner, err := tcpLn.Accept()
	assert.NilError(t, err)

	taken := make(chan error, 1)
	served, _ := unixPair(t, func(u *net.UnixConn) {
		ok, err := HandOver(u, inner.(*net.TCPConn))
		if err == nil && !ok {
			err = io.ErrUnexpectedEOF
		}
		// The forwarder's copy goes; the proxy's keeps the connection.
		inner.Close()
		taken <- err
	})
	assert.NilError(t, <-taken)
	_, isTCP := served.(Conn).NetConn().(*net.TCPConn)
	assert.Assert(t, isTCP, "accepted %T, want the *net.TCPConn handed over", served)

	// Bytes now go between the outer client and the proxy directly.
	_, err = io.WriteString(outer, "ping")
	assert.NilError(t, err)
	buf := make([]byte, 4)
	_, err = io.ReadFull(served, buf)
	assert.NilError(t, err)
	assert.Equal(t, string(buf), "ping")
	_, err = io.WriteString(served, "pong")
	assert.NilError(t, err)
	_, err = io.ReadFull(outer, buf)
	assert.NilError(t, err)
	assert.Equal(t, string(buf), "pong")
}

func TestHandoverListenerPassesOrdinaryConnectionsUntouched(t *testing.T) {
	served, _ := unixPair(t, func(u *net.UnixConn) { io.WriteString(u, "CONNECT x:443 HTTP/1.1\r\n\r\n") })
	// Still the socket itself, so that io.Copy splices it.
	_, isUnix := served.(Conn).NetConn().(*net.UnixConn)
	assert.Assert(t, isUnix, "accepted %T, want the *net.UnixConn", served)
	b := make([]byte, 7)
	_, err := io.ReadFull(served, b)
	assert.NilError(t, err)
	assert.Equal(t, string(b), "CONNECT", "the first byte must not be consumed")
}

func TestHandoverListenerRefusesAnythingButOneTCPSocket(t *testing.T) {
	r, w, err := os.Pipe()
	assert.NilError(t, err)
	defer r.Close()
	defer w.Close()
	for name, rights := range map[string][]byte{
		"no descriptor": nil,
		"a pipe":        syscall.UnixRights(int(r.Fd())),
		"two":           syscall.UnixRights(int(r.Fd()), int(w.Fd())),
	} {
		t.Run(name, func(t *testing.T) {
			served, client := unixPair(t, func(u *net.UnixConn) {
				u.WriteMsgUnix([]byte{handoverMarker}, rights, nil)
				io.WriteString(u, "rest")
			})
			_, isUnix := served.(Conn).NetConn().(*net.UnixConn)
			assert.Assert(t, isUnix, "accepted %T, want the *net.UnixConn", served)
			client.SetReadDeadline(time.Now().Add(5 * time.Second))
			answer := make([]byte, 1)
			_, err := io.ReadFull(client, answer)
			assert.NilError(t, err)
			assert.Equal(t, answer[0], handoverRefused)
			// The marker is consumed; the rest is an ordinary stream.
			b := make([]byte, 4)
			_, err = io.ReadFull(served, b)
			assert.NilError(t, err)
			assert.Equal(t, string(b), "rest")
		})
	}
}

func TestHandoverListenerAcceptsOthersWhileOneClientIsSilent(t *testing.T) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
	assert.NilError(t, err)
	hl := HandoverListener(ln)
	defer hl.Close()
	silent, err := net.Dial("unix", ln.Addr().String())
	assert.NilError(t, err)
	defer silent.Close()
	talking, err := net.Dial("unix", ln.Addr().String())
	assert.NilError(t, err)
	defer talking.Close()
	io.WriteString(talking, "GET / HTTP/1.1\r\n\r\n")
	done := make(chan net.Conn, 1)
	go func() {
		c, _ := hl.Accept()
		done <- c
	}()
	select {
	case c := <-done:
		assert.Assert(t, c != nil)
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("a silent client held up Accept for another")
	}
}

func TestHandoverListenerCloseEndsAccept(t *testing.T) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
	assert.NilError(t, err)
	hl := HandoverListener(ln)
	errc := make(chan error, 1)
	go func() { _, err := hl.Accept(); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	assert.NilError(t, hl.Close())
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
}

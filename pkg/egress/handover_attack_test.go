package egress

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/org/sandbox-action/pkg/forwarder"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"
)

// The attacks below are what an agent can do to the proxy through the unix
// socket mounted into its sandbox: connect to it itself and hand over any
// descriptor it holds, as many times as it likes. The proxy on the host
// transport is a host process, outside the sandbox's memory and process
// limits, so nothing the agent sends may make it hold resources without
// bound.

// startUnixProxy serves a proxy (allowing nothing) on a unix socket, as
// `sandbox proxy --listen unix:…` does, and returns the socket's path.
func startUnixProxy(t *testing.T) string {
	t.Helper()
	rec, _ := newTestRecorder()
	p := NewProxy(ProxyConfig{Recorder: rec})
	path := filepath.Join(t.TempDir(), "proxy.sock")
	ln, err := Listen("unix:" + path)
	assert.NilError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Server{Proxy: p, ProxyListener: ln, ShutdownTimeout: testShutdownTimeout}).Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return path
}

// threadsInClose counts this process's threads blocked in close(2).
func threadsInClose(t *testing.T) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	assert.NilError(t, err)
	n := 0
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "syscall"))
		if err != nil {
			continue // the thread is gone
		}
		nr, _, _ := strings.Cut(string(b), " ")
		if nr == strconv.Itoa(syscall.SYS_CLOSE) {
			n++
		}
	}
	return n
}

func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	assert.NilError(t, err)
	return len(fds)
}

// lingeringPair returns a loopback connection (client end, server end)
// whose client end has data queued that the server end will not take: its
// receive buffer is as small as the kernel allows and nobody reads it.
// Closing the client end with SO_LINGER on then waits for the linger time.
func lingeringPair(t *testing.T, ln net.Listener) (*net.TCPConn, net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", ln.Addr().String())
	assert.NilError(t, err)
	s, err := ln.Accept()
	assert.NilError(t, err)
	t.Cleanup(func() { s.Close() })
	tc := c.(*net.TCPConn)
	assert.NilError(t, tc.SetWriteBuffer(1<<20))
	tc.SetWriteDeadline(time.Now().Add(time.Second))
	_, err = tc.Write(make([]byte, 32<<10))
	assert.NilError(t, err)
	tc.SetWriteDeadline(time.Time{})
	return tc, s
}

func handOver(t *testing.T, socket string, c *net.TCPConn) {
	t.Helper()
	u, err := net.Dial("unix", socket)
	assert.NilError(t, err)
	defer u.Close()
	taken, err := forwarder.HandOver(u.(*net.UnixConn), c)
	assert.NilError(t, err)
	assert.Assert(t, taken, "the proxy refused a TCP connection")
}

// A connection handed over with SO_LINGER set (by the agent, before or
// after the handover, on a copy it kept) and data the sandbox never reads
// must not make the proxy's close wait: every such close holds an OS thread
// of the proxy for the linger time, and at 10 000 threads the Go runtime
// kills the proxy. The agent's process limit does not count them.
func TestHandedOverLingeringConnectionsHoldNoProxyThreads(t *testing.T) {
	const conns = 40
	for _, tc := range []struct {
		name string
		// handOver hands c over, SO_LINGER set one way or another, and
		// leaves the proxy holding the last reference to the socket.
		handOver func(t *testing.T, socket string, c *net.TCPConn)
	}{
		{"set before the handover", func(t *testing.T, socket string, c *net.TCPConn) {
			assert.NilError(t, c.SetLinger(3600))
			handOver(t, socket, c)
			c.Close()
		}},
		{"set after the handover on a copy kept", func(t *testing.T, socket string, c *net.TCPConn) {
			kept, err := c.File()
			assert.NilError(t, err)
			handOver(t, socket, c)
			c.Close()
			time.Sleep(20 * time.Millisecond)
			assert.NilError(t, syscall.SetsockoptLinger(int(kept.Fd()), syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 3600}))
			kept.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			socket := startUnixProxy(t)
			lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
				return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1) })
			}}
			ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
			assert.NilError(t, err)
			defer ln.Close()
			before := threadsInClose(t)
			for range conns {
				c, s := lingeringPair(t, ln)
				tc.handOver(t, socket, c)
				// A request that the proxy answers and then closes on.
				_, err := io.WriteString(s, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
				assert.NilError(t, err)
			}
			// net/http waits 500 ms between its half-close and its close.
			time.Sleep(2 * time.Second)
			blocked := threadsInClose(t) - before
			assert.Assert(t, blocked < conns/4, "%d of the proxy's threads wait in close(2) after %d lingering connections", blocked, conns)
		})
	}
}

// An agent can open connections to the socket faster than anything times
// them out (and has about a million descriptors to do it with): each one
// the proxy accepts costs it a descriptor, a goroutine and buffers on the
// host. Past forwarder.MaxOpenConns the proxy leaves new connections
// waiting in the kernel's queue, and serves them once others close.
func TestProxyHoldsAtMostMaxOpenConnsConnections(t *testing.T) {
	socket := startUnixProxy(t)
	base := openFDs(t)
	clients := forwarder.MaxOpenConns + 400
	var open []net.Conn
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for i := range clients {
		c, err := net.Dial("unix", socket)
		assert.NilError(t, err, "connection %d", i)
		open = append(open, c)
		// Half of them say nothing; half start a handover and go silent.
		if i%2 == 1 {
			_, err := c.Write([]byte{0})
			assert.NilError(t, err)
		}
	}
	// Give the proxy the time to accept whatever it will.
	var held int
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		n := openFDs(t) - base - clients
		if n == held && n > 0 {
			return poll.Success()
		}
		held = n
		return poll.Continue("the proxy holds %d", n)
	}, poll.WithDelay(500*time.Millisecond), poll.WithTimeout(20*time.Second))
	assert.Assert(t, held <= forwarder.MaxOpenConns, "the proxy holds %d connections open (limit %d)", held, forwarder.MaxOpenConns)

	// Once the silent ones go, the proxy serves again.
	for _, c := range open {
		c.Close()
	}
	open = nil
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}, Timeout: 5 * time.Second}
	resp, err := client.Get("http://proxy" + HealthPath)
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusOK)
}

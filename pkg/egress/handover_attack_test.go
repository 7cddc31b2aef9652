package egress

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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

// threadsIn counts this process's threads blocked in system call nr.
func threadsIn(t *testing.T, nr int) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	assert.NilError(t, err)
	n := 0
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "syscall"))
		if err != nil {
			continue // the thread is gone
		}
		in, _, _ := strings.Cut(string(b), " ")
		if in == strconv.Itoa(nr) {
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
			before := threadsIn(t, syscall.SYS_CLOSE)
			for range conns {
				c, s := lingeringPair(t, ln)
				tc.handOver(t, socket, c)
				// A request that the proxy answers and then closes on.
				_, err := io.WriteString(s, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
				assert.NilError(t, err)
			}
			// net/http waits 500 ms between its half-close and its close.
			time.Sleep(2 * time.Second)
			blocked := threadsIn(t, syscall.SYS_CLOSE) - before
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

// A socket handed over shares its open file description with the copy the
// sandbox may keep, O_NONBLOCK included: the agent can make it blocking
// after the handover, and every read of the proxy then holds an OS thread
// until the agent sends something, deaf to net/http's deadlines. Such
// connections are bounded like any other (MaxOpenConns); the proxy must
// still stop when asked, and print its stats, rather than wait on them.
func TestProxyStopsWithHandedOverSocketsMadeBlocking(t *testing.T) {
	rec, _ := newTestRecorder()
	p := NewProxy(ProxyConfig{Recorder: rec})
	socket := filepath.Join(t.TempDir(), "proxy.sock")
	pl, err := Listen("unix:" + socket)
	assert.NilError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Server{Proxy: p, ProxyListener: pl, ShutdownTimeout: testShutdownTimeout}).Run(ctx) }()
	defer cancel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer ln.Close()
	const conns = 20
	before := threadsIn(t, syscall.SYS_READ)
	for range conns {
		c, err := net.Dial("tcp", ln.Addr().String())
		assert.NilError(t, err)
		s, err := ln.Accept()
		assert.NilError(t, err)
		defer s.Close()
		kept, err := c.(*net.TCPConn).File()
		assert.NilError(t, err)
		handOver(t, socket, c.(*net.TCPConn))
		c.Close()
		assert.NilError(t, syscall.SetNonblock(int(kept.Fd()), false))
		kept.Close()
		// The start of a request wakes the proxy's reader, whose next
		// read then blocks.
		_, err = io.WriteString(s, "GET /")
		assert.NilError(t, err)
	}
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if n := threadsIn(t, syscall.SYS_READ) - before; n < conns {
			return poll.Continue("%d threads in read(2)", n)
		}
		return poll.Success()
	}, poll.WithTimeout(10*time.Second))

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		assert.NilError(t, err)
	case <-time.After(testShutdownTimeout + 5*time.Second):
		t.Fatalf("the proxy did not stop within %s of being asked", time.Since(start))
	}
}

// Whatever descriptors the agent sends with the handover marker, the proxy
// keeps none but a TCP socket's, and that one only while it serves it: a
// descriptor of any other kind, extra ones, more sent after the marker or
// more than fit are all closed (by the proxy or the kernel). A TCP socket
// that is listening or not connected is taken and dropped at its first
// read.
func TestProxyKeepsNoDescriptorTheSandboxSends(t *testing.T) {
	socket := startUnixProxy(t)
	dir := t.TempDir()
	open := func(t *testing.T, f func() (int, error)) int {
		t.Helper()
		fd, err := f()
		assert.NilError(t, err)
		t.Cleanup(func() { syscall.Close(fd) })
		return fd
	}
	tcpSocket := func() (int, error) { return syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0) }
	listening := func() (int, error) {
		fd, err := tcpSocket()
		if err == nil {
			err = syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
		}
		if err == nil {
			err = syscall.Listen(fd, 1)
		}
		return fd, err
	}
	udp := func() (int, error) { return syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0) }
	unixPair := func() (int, error) {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err == nil {
			syscall.Close(fds[1])
		}
		return fds[0], err
	}
	pipe := func() (int, error) {
		var fds [2]int
		err := syscall.Pipe(fds[:])
		if err == nil {
			syscall.Close(fds[1])
		}
		return fds[0], err
	}
	file := func() (int, error) {
		return syscall.Open(filepath.Join(dir, "f"), syscall.O_CREAT|syscall.O_RDWR, 0o600)
	}
	directory := func() (int, error) { return syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0) }

	for _, tc := range []struct {
		name string
		// fds are sent with the marker; later, with the bytes after it.
		fds, later []func() (int, error)
		answer     byte
	}{
		{name: "an unconnected TCP socket", fds: []func() (int, error){tcpSocket}, answer: 'A'},
		{name: "a listening TCP socket", fds: []func() (int, error){listening}, answer: 'A'},
		{name: "a UDP socket", fds: []func() (int, error){udp}, answer: 'R'},
		{name: "a unix socket", fds: []func() (int, error){unixPair}, answer: 'R'},
		{name: "a pipe", fds: []func() (int, error){pipe}, answer: 'R'},
		{name: "a file", fds: []func() (int, error){file}, answer: 'R'},
		{name: "a directory", fds: []func() (int, error){directory}, answer: 'R'},
		{name: "two TCP sockets", fds: []func() (int, error){tcpSocket, tcpSocket}, answer: 'R'},
		{name: "more than fit", fds: slices.Repeat([]func() (int, error){pipe}, 12), answer: 'R'},
		{name: "more after a refusal", fds: []func() (int, error){udp}, later: []func() (int, error){tcpSocket, pipe}, answer: 'R'},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := openFDs(t)
			rights := func(fs []func() (int, error)) []byte {
				var fds []int
				for _, f := range fs {
					fds = append(fds, open(t, f))
				}
				return syscall.UnixRights(fds...)
			}
			c, err := net.Dial("unix", socket)
			assert.NilError(t, err)
			u := c.(*net.UnixConn)
			_, _, err = u.WriteMsgUnix([]byte{0}, rights(tc.fds), nil)
			assert.NilError(t, err)
			u.SetReadDeadline(time.Now().Add(5 * time.Second))
			b := make([]byte, 1)
			_, err = io.ReadFull(u, b)
			assert.NilError(t, err)
			assert.Equal(t, string(b), string(tc.answer))
			if tc.later != nil {
				_, _, err = u.WriteMsgUnix([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), rights(tc.later), nil)
				assert.NilError(t, err)
				resp, err := http.ReadResponse(bufio.NewReader(u), nil)
				assert.NilError(t, err)
				assert.Equal(t, resp.StatusCode, http.StatusOK)
			}
			u.Close()
			// Ours go at the end of the subtest; the proxy's must have gone
			// by then too.
			ours := len(tc.fds) + len(tc.later)
			poll.WaitOn(t, func(poll.LogT) poll.Result {
				if n := openFDs(t) - base - ours; n > 0 {
					return poll.Continue("the proxy holds %d more descriptors", n)
				}
				return poll.Success()
			}, poll.WithTimeout(5*time.Second))
		})
	}
}

package egress

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// testShutdownTimeout keeps tests that cut open tunnels quick.
const testShutdownTimeout = 300 * time.Millisecond

// logBuffer collects JSON log lines written concurrently.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// events returns the decision lines logged so far.
func (b *logBuffer) events(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		assert.NilError(t, json.Unmarshal([]byte(line), &m), line)
		if m["msg"] == "egress" {
			out = append(out, m)
		}
	}
	return out
}

func newTestRecorder() (*Recorder, *logBuffer) {
	logs := &logBuffer{}
	return NewRecorder(slog.New(slog.NewJSONHandler(logs, nil))), logs
}

// loopbackDialer stands in for DNS: it maps "name:port" to a loopback
// address and counts dials, so tests can assert that a refused request never
// reached any upstream.
type loopbackDialer struct {
	routes map[string]string
	dials  atomic.Int64
}

func (d *loopbackDialer) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.dials.Add(1)
	to, ok := d.routes[addr]
	if !ok {
		return nil, fmt.Errorf("lookup %s: no such host", addr)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, to)
}

// testProxy is a Server running a Proxy on a loopback port.
type testProxy struct {
	addr   string
	proxy  *Proxy
	dialer *loopbackDialer
	logs   *logBuffer
	stop   func()
}

func startProxy(t testing.TB, allow []string, routes map[string]string) *testProxy {
	t.Helper()
	al, err := ParseAllowlist(allow, nil)
	assert.NilError(t, err)
	rec, logs := newTestRecorder()
	d := &loopbackDialer{routes: routes}
	p := NewProxy(ProxyConfig{Allowlist: al, Recorder: rec, Dial: d.Dial, DialTimeout: 5 * time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Server{Proxy: p, ProxyListener: ln, ShutdownTimeout: testShutdownTimeout}).Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			assert.NilError(t, <-done)
		}
	}
	t.Cleanup(stop)
	return &testProxy{addr: ln.Addr().String(), proxy: p, dialer: d, logs: logs, stop: stop}
}

// rawRequest sends request text to addr and returns the response with its
// body read.
func rawRequest(t *testing.T, addr, request string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	assert.NilError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, request)
	assert.NilError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	assert.NilError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// startEcho serves a TCP echo on loopback.
func startEcho(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

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
	"net/netip"
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
	d := &loopbackDialer{routes: routes}
	tp := serveProxy(t, allow, ProxyConfig{Dial: d.Dial})
	tp.dialer = d
	return tp
}

// serveProxy runs a Proxy made from cfg, with allow as its allowlist, on a
// loopback port.
func serveProxy(t testing.TB, allow []string, cfg ProxyConfig) *testProxy {
	t.Helper()
	al, err := ParseAllowlist(allow, nil)
	assert.NilError(t, err)
	rec, logs := newTestRecorder()
	cfg.Allowlist, cfg.Recorder, cfg.DialTimeout = al, rec, 5*time.Second
	p := NewProxy(cfg)
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
	return &testProxy{addr: ln.Addr().String(), proxy: p, logs: logs, stop: stop}
}

// fakeDNS is a resolver whose answers the test sets: A and AAAA records for
// names, served over in-memory pipes, so nothing leaves the process and no
// real DNS server is asked.
func fakeDNS(t testing.TB, records map[string][]netip.Addr) *net.Resolver {
	t.Helper()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			// Not a PacketConn, so queries come with TCP's length prefix.
			var n [2]byte
			for {
				if _, err := io.ReadFull(server, n[:]); err != nil {
					return
				}
				q := make([]byte, int(n[0])<<8|int(n[1]))
				if _, err := io.ReadFull(server, q); err != nil {
					return
				}
				resp := dnsAnswer(q, records)
				if resp == nil {
					return
				}
				if _, err := server.Write(append([]byte{byte(len(resp) >> 8), byte(len(resp))}, resp...)); err != nil {
					return
				}
			}
		}()
		return client, nil
	}}
}

// dnsAnswer answers a one-question query (RFC 1035 section 4) from records;
// NXDOMAIN for a name it does not know.
func dnsAnswer(q []byte, records map[string][]netip.Addr) []byte {
	if len(q) < 12 {
		return nil
	}
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	end := i + 5 // the root label, then type and class
	if end > len(q) {
		return nil
	}
	qtype := int(q[i+1])<<8 | int(q[i+2])
	addrs, known := records[strings.ToLower(strings.Join(labels, "."))]
	var answers [][]byte
	for _, a := range addrs {
		if (qtype == 1 && a.Is4()) || (qtype == 28 && a.Is6()) {
			answers = append(answers, a.AsSlice())
		}
	}
	// ID; QR, AA, RD, RA, and NXDOMAIN when unknown; one question; answers.
	rcode := byte(0)
	if !known {
		rcode = 3
	}
	resp := []byte{q[0], q[1], 0x85, 0x80 | rcode, 0, 1, 0, byte(len(answers)), 0, 0, 0, 0}
	resp = append(resp, q[12:end]...)
	for _, rd := range answers {
		resp = append(resp, 0xc0, 12, byte(qtype>>8), byte(qtype), 0, 1, 0, 0, 0, 60, 0, byte(len(rd)))
		resp = append(resp, rd...)
	}
	return resp
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

package egress

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestConnectReachesAllowlistedHTTPSUpstream(t *testing.T) {
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s%s", r.Host, r.URL.Path)
	}))
	defer up.Close()
	tp := startProxy(t, []string{"example.com"}, map[string]string{"example.com:443": up.Listener.Addr().String()})

	roots := x509.NewCertPool()
	roots.AddCert(up.Certificate())
	client := &http.Client{Transport: &http.Transport{
		Proxy:           http.ProxyURL(&url.URL{Scheme: "http", Host: tp.addr}),
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}}
	resp, err := client.Get("https://example.com/models")
	assert.NilError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.NilError(t, err)
	assert.Equal(t, string(body), "hello from example.com/models")
	client.CloseIdleConnections()

	tp.stop()
	events := tp.logs.events(t)
	assert.Assert(t, is.Len(events, 1))
	e := events[0]
	assert.Equal(t, e["component"], "proxy")
	assert.Equal(t, e["method"], "CONNECT")
	assert.Equal(t, e["host"], "example.com")
	assert.Equal(t, e["port"], float64(443))
	assert.Equal(t, e["decision"], "allow")
	assert.Assert(t, e["bytes"].(float64) > 0)

	st := tp.proxy.Recorder().Stats()
	assert.Equal(t, st.Proxy.Hosts["example.com"].Allowed, int64(1))
	assert.Equal(t, st.Proxy.Allowed, int64(1))
	assert.Equal(t, st.Proxy.Bytes, int64(e["bytes"].(float64)))
}

// A wildcard entry lets a subdomain through, and the tunnel relays bytes
// both ways, including a half-close.
func TestConnectWildcardTunnelRelaysBothWays(t *testing.T) {
	echo := startEcho(t)
	tp := startProxy(t, []string{"*.example.com"}, map[string]string{"api.example.com:443": echo})

	c, err := net.Dial("tcp", tp.addr)
	assert.NilError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// The payload follows the CONNECT in the same write, as clients that do
	// not wait for the 200 send it.
	_, err = io.WriteString(c, "CONNECT API.Example.COM.:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\nping")
	assert.NilError(t, err)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	assert.NilError(t, err)
	assert.Equal(t, resp.StatusCode, http.StatusOK)
	assert.NilError(t, c.(*net.TCPConn).CloseWrite())
	rest, err := io.ReadAll(br)
	assert.NilError(t, err)
	assert.Equal(t, string(rest), "ping")

	tp.stop()
	st := tp.proxy.Recorder().Stats()
	assert.DeepEqual(t, st.Proxy.Hosts["api.example.com"], Count{Allowed: 1, Bytes: 8})
}

func TestConnectRefused(t *testing.T) {
	tp := startProxy(t, []string{"example.com", "*.example.org", "10.1.2.3:8443"}, nil)
	tests := []struct {
		target string
		status int
		reason string
	}{
		{"evil.test:443", 403, "host evil.test is not in the allowlist"},
		{"example.org:443", 403, "host example.org is not in the allowlist"},
		{"example.com.evil.test:443", 403, "host example.com.evil.test is not in the allowlist"},
		{"example.com:8443", 403, "port 8443 is not allowed for example.com"},
		{"EXAMPLE.com.:22", 403, "port 22 is not allowed for example.com"},
		{"127.0.0.1:443", 403, "IP address 127.0.0.1 is not in the allowlist"},
		{"[::1]:443", 403, "IP address ::1 is not in the allowlist"},
		{"[::ffff:127.0.0.1]:443", 403, "IP address 127.0.0.1 is not in the allowlist"},
		{"2130706433:443", 403, "IP address 127.0.0.1 is not in the allowlist"},
		{"0x7f.1:443", 403, "IP address 127.0.0.1 is not in the allowlist"},
		{"0177.0.0.1:443", 403, "IP address 127.0.0.1 is not in the allowlist"},
		{"10.1.2.3:443", 403, "port 443 is not allowed for 10.1.2.3"},
		{"example.com", 400, `bad CONNECT target "example.com": want host:port: missing port in address`},
		{"example.com:0", 400, `invalid port "0"`},
		{"example.com:65536", 400, `invalid port "65536"`},
		{":443", 400, "missing host"},
		{"-oProxyCommand=x:443", 400, `invalid host name "-oProxyCommand=x": label starts or ends with '-'`},
		{"x=y:443", 400, `invalid host name "x=y": character '=' not allowed`},
		{"a..b:443", 400, `invalid host name "a..b": empty label`},
		{"a$b:443", 400, `invalid host name "a$b": character '$' not allowed`},
		{"1.2.3.999:443", 400, `invalid IPv4 address "1.2.3.999"`},
		{"example.123:443", 400, `invalid IPv4 address "example.123"`},
		{"[fe80::1%25eth0]:443", 400, `invalid IPv6 address "fe80::1%eth0"`},
		{"/tunnel", 400, `bad CONNECT target "/tunnel": want host:port`},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			resp, body := rawRequest(t, tp.addr, "CONNECT "+tc.target+" HTTP/1.1\r\nHost: x\r\n\r\n")
			assert.Equal(t, resp.StatusCode, tc.status)
			assert.Assert(t, is.Contains(body, tc.reason))
			assert.Assert(t, strings.HasPrefix(body, "egress proxy: "), body)
			assert.Assert(t, resp.Close, "a refused CONNECT must close the connection")
		})
	}
	assert.Equal(t, tp.dialer.dials.Load(), int64(0), "a refused request reached the dialer")

	tp.stop()
	events := tp.logs.events(t)
	assert.Equal(t, len(events), len(tests))
	for i, e := range events {
		assert.Equal(t, e["decision"], "deny")
		assert.Equal(t, e["status"], float64(tests[i].status))
		assert.Assert(t, is.Contains(e["reason"], tests[i].reason))
	}
	st := tp.proxy.Recorder().Stats()
	assert.Equal(t, st.Proxy.Denied, int64(len(tests)))
	assert.Equal(t, st.Proxy.Allowed, int64(0))
	assert.Equal(t, st.Proxy.Hosts["evil.test"].Denied, int64(1))
	assert.Equal(t, st.Proxy.Hosts["example.com"].Denied, int64(2))
	assert.Equal(t, st.Proxy.Hosts["127.0.0.1"].Denied, int64(5))
}

func TestConnectUnreachableUpstreamIs502(t *testing.T) {
	tp := startProxy(t, []string{"gone.example.com"}, nil)
	resp, body := rawRequest(t, tp.addr, "CONNECT gone.example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.Equal(t, resp.StatusCode, http.StatusBadGateway)
	assert.Assert(t, is.Contains(body, "no such host"))
	tp.stop()
	e := tp.logs.events(t)[0]
	assert.Equal(t, e["decision"], "allow")
	assert.Assert(t, is.Contains(e["reason"], "no such host"))
}

func TestForwardPlainHTTP(t *testing.T) {
	type seen struct {
		Host, URI, ProxyAuth, XFF string
		Body                      string
	}
	got := make(chan seen, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Host, r.RequestURI, r.Header.Get("Proxy-Authorization"), r.Header.Get("X-Forwarded-For"), string(b)}
		io.WriteString(w, "pong")
	}))
	defer up.Close()
	tp := startProxy(t, []string{"plain.example.com"}, map[string]string{"plain.example.com:80": up.Listener.Addr().String()})
	client := &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyURL(&url.URL{Scheme: "http", User: url.UserPassword("u", "p"), Host: tp.addr}),
	}}

	resp, err := client.Post("http://plain.example.com/v1/x?q=1", "text/plain", strings.NewReader("ping!"))
	assert.NilError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusOK)
	assert.Equal(t, string(body), "pong")
	assert.DeepEqual(t, <-got, seen{Host: "plain.example.com", URI: "/v1/x?q=1", Body: "ping!"})

	resp, err = client.Get("http://evil.example.com/")
	assert.NilError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusForbidden)
	assert.Equal(t, string(body), "egress proxy: host evil.example.com is not in the allowlist\n")

	resp, err = client.Get("http://plain.example.com:8080/")
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusForbidden)

	tp.stop()
	st := tp.proxy.Recorder().Stats()
	assert.DeepEqual(t, st.Proxy.Hosts["plain.example.com"], Count{Allowed: 1, Denied: 1, Bytes: 9})
	assert.DeepEqual(t, st.Proxy.Hosts["evil.example.com"], Count{Denied: 1})
	assert.Equal(t, tp.dialer.dials.Load(), int64(1))
	events := tp.logs.events(t)
	assert.Equal(t, events[0]["method"], "POST")
	assert.Equal(t, events[0]["status"], float64(200))
	assert.Equal(t, events[0]["decision"], "allow")
}

func TestMalformedProxyRequests(t *testing.T) {
	tp := startProxy(t, []string{"example.com"}, nil)
	tests := []struct {
		name    string
		request string
		status  int
		body    string
	}{
		{"origin form", "GET /v1/models HTTP/1.1\r\nHost: example.com\r\n\r\n", 400,
			"not a proxy request: send CONNECT host:port or an absolute http:// URL"},
		{"https in absolute form", "GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", 400,
			`unsupported scheme "https": use CONNECT for https`},
		{"other scheme", "GET ftp://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", 400,
			`unsupported scheme "ftp"`},
		{"missing host", "GET http:///x HTTP/1.1\r\nHost: example.com\r\n\r\n", 400,
			"missing host in request URL"},
		{"garbage host", "GET http://exa_mple!/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"flag-like host", "GET http://--help/ HTTP/1.1\r\nHost: x\r\n\r\n", 400,
			`bad request URL host "--help": invalid host name "--help": label starts or ends with '-'`},
		{"huge headers", "CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", MaxHeaderBytes+4096) + "\r\n\r\n", 431, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawRequest(t, tp.addr, tc.request)
			assert.Equal(t, resp.StatusCode, tc.status)
			assert.Assert(t, is.Contains(body, tc.body))
		})
	}
	assert.Equal(t, tp.dialer.dials.Load(), int64(0))
}

// Request targets that net/http itself cannot parse never reach the proxy's
// handler; they still get a 400 (with net/http's generic body) and reach
// nothing.
func TestUnparsableTargetsRejectedByHTTPServer(t *testing.T) {
	tp := startProxy(t, []string{"example.com"}, nil)
	for _, target := range []string{"example.com:https", "example.com:+443", "ex%61mple.com:443", "[example.com]:443", "http://exa mple/"} {
		t.Run(target, func(t *testing.T) {
			resp, body := rawRequest(t, tp.addr, "CONNECT "+target+" HTTP/1.1\r\nHost: x\r\n\r\n")
			assert.Equal(t, resp.StatusCode, http.StatusBadRequest)
			assert.Equal(t, body, "400 Bad Request")
		})
	}
	assert.Equal(t, tp.dialer.dials.Load(), int64(0))
}

func TestProxyHealth(t *testing.T) {
	tp := startProxy(t, nil, nil)
	resp, body := rawRequest(t, tp.addr, "GET /healthz HTTP/1.1\r\nHost: proxy\r\n\r\n")
	assert.Equal(t, resp.StatusCode, http.StatusOK)
	assert.Equal(t, body, "ok\n")
	// Health checks are not egress decisions.
	tp.stop()
	assert.Equal(t, len(tp.logs.events(t)), 0)
}

// Stopping the server ends tunnels that are still open, within the shutdown
// timeout, and still records them.
func TestShutdownClosesOpenTunnels(t *testing.T) {
	echo := startEcho(t)
	tp := startProxy(t, []string{"api.example.com"}, map[string]string{"api.example.com:443": echo})
	c, err := net.Dial("tcp", tp.addr)
	assert.NilError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, "CONNECT api.example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.NilError(t, err)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	assert.NilError(t, err)
	assert.Equal(t, resp.StatusCode, http.StatusOK)

	start := time.Now()
	tp.stop()
	assert.Assert(t, time.Since(start) < testShutdownTimeout+time.Second)
	_, err = br.ReadByte()
	assert.Equal(t, err, io.EOF)
	assert.Equal(t, tp.proxy.Recorder().Stats().Proxy.Allowed, int64(1))
}

// A tunnel that would open while the proxy shuts down is refused and still
// recorded.
func TestConnectWhileClosingIs503(t *testing.T) {
	echo := startEcho(t)
	tp := startProxy(t, []string{"api.example.com"}, map[string]string{"api.example.com:443": echo})
	tp.proxy.Close()
	resp, _ := rawRequest(t, tp.addr, "CONNECT api.example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.Equal(t, resp.StatusCode, http.StatusServiceUnavailable)
	tp.stop()
	e := tp.logs.events(t)[0]
	assert.Equal(t, e["reason"], "proxy is shutting down")
	assert.Equal(t, e["status"], float64(503))
}

package egress

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestDestinationsCheck(t *testing.T) {
	d, err := HostDestinations()
	assert.NilError(t, err)
	explicit := func(ap netip.AddrPort) bool { return ap == netip.MustParseAddrPort("10.9.8.7:443") }
	tests := []struct {
		addr string
		what string // empty: allowed
	}{
		{"127.0.0.1:443", "a loopback address"},
		{"127.1.2.3:80", "a loopback address"},
		{"[::1]:443", "a loopback address"},
		{"[::ffff:127.0.0.1]:443", "a loopback address"},
		{"0.0.0.0:443", "an unspecified address"},
		{"0.1.2.3:443", "an unspecified address"},
		{"[::]:443", "an unspecified address"},
		{"169.254.169.254:80", "a link-local address (where cloud instance metadata lives)"},
		{"[fe80::1%eth0]:443", "a link-local address"},
		{"[::ffff:169.254.169.254]:80", "a link-local address"},
		{"224.0.0.251:443", "a multicast address"},
		{"[ff02::1]:443", "a multicast address"},
		{"255.255.255.255:443", "the broadcast address"},
		{"168.63.129.16:80", "Azure's platform address"},
		{"[fd00:ec2::254]:80", "AWS's IPv6 instance metadata address"},
		{"100.100.100.200:80", "Alibaba Cloud's instance metadata address"},
		// Explicitly allowed: that address and port only.
		{"10.9.8.7:443", ""},
		// Only checked, never dialled: addresses on the Internet pass.
		{"198.51.100.1:443", ""},
		{"[2001:db8:5::1]:443", ""},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			err := d.Check(netip.MustParseAddrPort(tc.addr), explicit)
			if tc.what == "" {
				assert.NilError(t, err)
				return
			}
			var de *DestinationError
			assert.Assert(t, errors.As(err, &de), "%v", err)
			assert.Assert(t, is.Contains(de.What, tc.what))
		})
	}
	// Explicit allows bind the port too, and never widen to other addresses.
	assert.Assert(t, explicit(netip.MustParseAddrPort("10.9.8.7:443")))
	assert.NilError(t, AnyDestination().Check(netip.MustParseAddrPort("127.0.0.1:1"), nil))
	assert.ErrorContains(t, d.Check(netip.MustParseAddrPort("127.0.0.1:443"), func(netip.AddrPort) bool { return false }), "127.0.0.1 is a loopback address")
}

// Every address of every interface of this host, and a neighbour on each of
// their networks (docker0's bridge among them), is refused.
func TestHostDestinationsRefuseTheHostsOwnNetworks(t *testing.T) {
	d, err := HostDestinations()
	assert.NilError(t, err)
	ifs, err := net.Interfaces()
	assert.NilError(t, err)
	checked := 0
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		assert.NilError(t, err)
		for _, a := range addrs {
			ipn := a.(*net.IPNet)
			ip, _ := netip.AddrFromSlice(ipn.IP)
			ip = ip.Unmap()
			if ip.IsLoopback() || ip.IsLinkLocalUnicast() {
				continue
			}
			err := d.Check(netip.AddrPortFrom(ip, 443), nil)
			assert.ErrorContains(t, err, "an address of this host ("+ifc.Name+")")
			checked++
			ones, bits := ipn.Mask.Size()
			if ones < minBlockedBits4 || ones >= bits-1 {
				continue
			}
			p := netip.PrefixFrom(ip, ones).Masked()
			neighbour := p.Addr().Next()
			if neighbour == ip {
				neighbour = neighbour.Next()
			}
			err = d.Check(netip.AddrPortFrom(neighbour, 443), nil)
			assert.ErrorContains(t, err, "on "+p.String()+", the network of this host's interface "+ifc.Name)
		}
	}
	// A test host always has a non-loopback address: Docker's bridge.
	assert.Assert(t, checked > 0, "no interface address to check")
}

// countingListener counts the connections a loopback upstream accepted, so
// a test can tell that a refused destination was never connected to.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// An allowlisted name that resolves to loopback, or to the cloud metadata
// address, is refused with 403 and a logged deny, for CONNECT and for plain
// HTTP, and nothing is connected to; the same address allowed explicitly
// works.
func TestProxyRefusesNamesThatResolveToLocalAddresses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	up := &countingListener{Listener: ln}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "upstream") })}
	go srv.Serve(up)
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	p := strconv.Itoa(port)

	dns := fakeDNS(t, map[string][]netip.Addr{
		"sneaky.example.test":   {netip.MustParseAddr("127.0.0.1")},
		"metadata.example.test": {netip.MustParseAddr("169.254.169.254")},
		"v6.example.test":       {netip.MustParseAddr("::1")},
	})
	tp := serveProxy(t, []string{"sneaky.example.test:" + p, "metadata.example.test", "v6.example.test:" + p},
		ProxyConfig{Resolver: dns})

	tests := []struct {
		name, request, reason string
	}{
		{"CONNECT to a name resolving to loopback", "CONNECT sneaky.example.test:" + p + " HTTP/1.1\r\nHost: x\r\n\r\n",
			"sneaky.example.test resolves to 127.0.0.1, which is a loopback address; the proxy connects there only if that exact address is allowed (--allow 127.0.0.1:" + p + ")"},
		{"plain HTTP to a name resolving to loopback", "GET http://sneaky.example.test:" + p + "/ HTTP/1.1\r\nHost: sneaky.example.test\r\n\r\n",
			"sneaky.example.test resolves to 127.0.0.1, which is a loopback address"},
		{"CONNECT to a name resolving to the metadata address", "CONNECT metadata.example.test:80 HTTP/1.1\r\nHost: x\r\n\r\n",
			"metadata.example.test resolves to 169.254.169.254, which is a link-local address (where cloud instance metadata lives)"},
		{"plain HTTP to the metadata address", "GET http://metadata.example.test/latest/meta-data/ HTTP/1.1\r\nHost: metadata.example.test\r\n\r\n",
			"metadata.example.test resolves to 169.254.169.254"},
		{"CONNECT to a name resolving to IPv6 loopback", "CONNECT v6.example.test:" + p + " HTTP/1.1\r\nHost: x\r\n\r\n",
			"v6.example.test resolves to ::1, which is a loopback address; the proxy connects there only if that exact address is allowed (--allow [::1]:" + p + ")"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawRequest(t, tp.addr, tc.request)
			assert.Equal(t, resp.StatusCode, http.StatusForbidden)
			assert.Assert(t, is.Contains(body, "egress proxy: "+tc.reason))
		})
	}
	assert.Equal(t, up.accepted.Load(), int64(0), "a refused destination was connected to")

	tp.stop()
	events := tp.logs.events(t)
	assert.Equal(t, len(events), len(tests))
	for i, e := range events {
		assert.Equal(t, e["decision"], "deny")
		assert.Equal(t, e["status"], float64(403))
		assert.Assert(t, is.Contains(e["reason"], tests[i].reason))
	}
	st := tp.proxy.Recorder().Stats()
	assert.DeepEqual(t, st.Proxy.Hosts["sneaky.example.test"], Count{Denied: 2})
	assert.DeepEqual(t, st.Proxy.Hosts["metadata.example.test"], Count{Denied: 2})
	assert.Equal(t, st.Proxy.Allowed, int64(0))

	// Allowing 127.0.0.1 with the upstream's port lets the name through,
	// and the IP literal itself too, by CONNECT and by plain HTTP.
	allowed := serveProxy(t, []string{"sneaky.example.test:" + p, "127.0.0.1:" + p}, ProxyConfig{Resolver: dns})
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: allowed.addr})}}
	defer client.CloseIdleConnections()
	for _, u := range []string{"http://sneaky.example.test:" + p + "/", "http://127.0.0.1:" + p + "/"} {
		resp, err := client.Get(u)
		assert.NilError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, resp.StatusCode, http.StatusOK, u)
		assert.Equal(t, string(b), "upstream")
	}
	c, err := net.Dial("tcp", allowed.addr)
	assert.NilError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, "CONNECT sneaky.example.test:"+p+" HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: sneaky.example.test\r\nConnection: close\r\n\r\n")
	assert.NilError(t, err)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	assert.NilError(t, err)
	assert.Equal(t, resp.StatusCode, http.StatusOK)
	rest, err := io.ReadAll(br)
	assert.NilError(t, err)
	assert.Assert(t, strings.HasSuffix(string(rest), "upstream"), string(rest))

	// The explicit allow binds the port: another port on 127.0.0.1 stays
	// refused, by address.
	other := serveProxy(t, []string{"sneaky.example.test"}, ProxyConfig{Resolver: dns})
	resp, body := rawRequest(t, other.addr, "CONNECT sneaky.example.test:443 HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.Equal(t, resp.StatusCode, http.StatusForbidden)
	assert.Assert(t, is.Contains(body, "resolves to 127.0.0.1"))
}

// The gateway's upstream goes through the same check: a name resolving to
// loopback is refused, an upstream named by its IP literal is not (every
// other gateway test relies on that).
func TestGatewayRefusesUpstreamsResolvingToLocalAddresses(t *testing.T) {
	api := startFakeAPI(t, nil)
	roots, err := LoadRootCAs(api.caFile)
	assert.NilError(t, err)
	_, port, _ := net.SplitHostPort(api.srv.Listener.Addr().String())
	rec, logs := newTestRecorder()
	gw, err := NewGateway(GatewayConfig{
		Token: testToken, Recorder: rec, RootCAs: roots,
		Upstreams: []Upstream{{Vendor: Anthropic, URL: "https://api.example.test:" + port, Key: "k"}},
		Resolver:  fakeDNS(t, map[string][]netip.Addr{"api.example.test": {netip.MustParseAddr("127.0.0.1")}}),
	})
	assert.NilError(t, err)
	srv := httptest.NewServer(gw)
	defer srv.Close()
	status, body := call(t, http.MethodPost, Anthropic.BaseURL(srv.URL)+"/v1/messages", "{}", map[string]string{"X-Api-Key": testToken})
	assert.Equal(t, status, http.StatusForbidden)
	assert.Assert(t, is.Contains(body, "sandbox gateway: api.example.test resolves to 127.0.0.1, which is a loopback address; "+
		"the gateway connects there only if the upstream names that exact address (https://127.0.0.1:"+port+")"))
	assert.Equal(t, api.hits.Load(), int64(0))
	srv.Close()
	e := logs.events(t)[0]
	assert.Equal(t, e["decision"], "deny")
	assert.Equal(t, e["status"], float64(403))
	assert.Equal(t, rec.Stats().Gateway.Hosts[string(Anthropic)].Denied, int64(1))
}

package egress

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// The real key goes to the configured upstream and nowhere else, whatever
// the sandbox puts in the request: another host in the request line or the
// Host header, a path that looks like a URL, a CONNECT, or a redirect the
// upstream answers with. The other host is a TLS server the gateway trusts
// (same roots), so only the gateway's own routing keeps the key from it.
func TestGatewaySendsTheKeyOnlyToItsUpstream(t *testing.T) {
	other := startFakeAPI(t, nil)
	otherHost := strings.TrimPrefix(other.srv.URL, "https://")
	api := startFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models/redirect" {
			http.Redirect(w, r, other.srv.URL+"/v1/models", http.StatusTemporaryRedirect)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	})
	srv := gatewayTrustingBoth(t, api, other)
	addr := srv.Listener.Addr().String()
	auth := "X-Api-Key: " + testToken + "\r\n"

	tests := []struct {
		name    string
		request string
		status  int
		// upstream: the configured upstream got the request (with the key).
		upstream bool
	}{
		{"another host in the request line",
			"GET " + other.srv.URL + "/anthropic/v1/models HTTP/1.1\r\nHost: " + otherHost + "\r\n" + auth + "\r\n", 200, true},
		{"another host in the Host header",
			"GET /anthropic/v1/models HTTP/1.1\r\nHost: " + otherHost + "\r\n" + auth + "\r\n", 200, true},
		{"a path naming another host",
			"GET /anthropic//" + otherHost + "/v1/models HTTP/1.1\r\nHost: gw\r\n" + auth + "\r\n", 403, false},
		{"an escaped path naming another host",
			"GET /anthropic/%2F%2F" + otherHost + "/v1/models HTTP/1.1\r\nHost: gw\r\n" + auth + "\r\n", 403, false},
		{"CONNECT to another host",
			"CONNECT " + otherHost + " HTTP/1.1\r\nHost: " + otherHost + "\r\n" + auth + "\r\n", 404, false},
		{"the upstream redirects elsewhere: passed back, not followed",
			"GET /anthropic/v1/models/redirect HTTP/1.1\r\nHost: gw\r\n" + auth + "\r\n", 307, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := api.hits.Load()
			resp, body := rawRequest(t, addr, tc.request)
			assert.Equal(t, resp.StatusCode, tc.status, body)
			if !tc.upstream {
				assert.Equal(t, api.hits.Load(), before)
				return
			}
			got := <-api.seen
			assert.Equal(t, got.Header.Get("X-Api-Key"), realKeys[Anthropic])
			assert.Equal(t, got.Header.Get("Host"), "", "Go moves Host out of the header map")
		})
	}
	assert.Equal(t, other.hits.Load(), int64(0), "the other host received a request")
}

// Plain HTTP is for loopback upstreams only: the key crosses no network
// there. A name such as localhost is not enough, since DNS (or /etc/hosts)
// decides where it leads.
func TestUpstreamSchemes(t *testing.T) {
	for _, tc := range []struct {
		url, err string
	}{
		{"https://litellm.corp.example", ""},
		{"https://10.1.2.3:8443/anthropic", ""},
		{"http://127.0.0.1:4000", ""},
		{"http://127.8.9.10", ""},
		{"http://[::1]:4000/v1proxy", ""},
		{"http://localhost:4000", "scheme must be https (http only for a loopback address"},
		{"http://10.1.2.3:4000", "scheme must be https (http only for a loopback address"},
		{"http://[::ffff:10.1.2.3]:4000", "scheme must be https (http only for a loopback address"},
		{"ftp://127.0.0.1", "scheme must be https"},
		{"api.example.com/v1", "scheme must be https"},
		{"https://:443", "missing host"},
		{"https://api.example.com?", "must not carry user info, a query or a fragment"},
		{"https://api.example.com#x", "must not carry user info, a query or a fragment"},
	} {
		err := ValidateUpstream(tc.url)
		if tc.err == "" {
			assert.Check(t, err, tc.url)
			continue
		}
		assert.Check(t, is.ErrorContains(err, tc.err), tc.url)
	}
}

// A loopback upstream over plain HTTP gets the key in the header it
// expects: the destination check lets the address through because the URL
// names it, port 80 being http's default rather than https's 443.
func TestGatewayPlainHTTPLoopbackUpstream(t *testing.T) {
	seen := make(chan string, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Authorization")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer api.Close()
	gw, err := NewGateway(GatewayConfig{Token: testToken,
		Upstreams: []Upstream{{Vendor: OpenAI, URL: api.URL, Key: realKeys[OpenAI]}}})
	assert.NilError(t, err)
	srv := httptest.NewServer(gw)
	defer srv.Close()
	status, body := call(t, http.MethodPost, OpenAI.BaseURL(srv.URL)+"/v1/responses", "{}", map[string]string{"Authorization": "Bearer " + testToken})
	assert.Equal(t, status, http.StatusOK, body)
	assert.Equal(t, <-seen, "Bearer "+realKeys[OpenAI])
}

// An address on a Docker network (blocked here as the host's bridge is) is
// dialled only because, and only as far as, the upstream URL names it: that
// IP and that port, not a neighbour, not another port, and not when the
// URL names a host that merely resolves to it. Plain HTTP's default port is
// 80, not 443.
func TestGatewayDialsALocalAddressOnlyAsNamed(t *testing.T) {
	bridge := &Destinations{blocked: []blockedNet{{netip.MustParsePrefix("172.17.0.0/16"), "on 172.17.0.0/16, the network of docker0"}}}
	gateway := func(urls ...string) *Gateway {
		var ups []Upstream
		for i, u := range urls {
			ups = append(ups, Upstream{Vendor: Vendors[i], URL: u, Key: "k"})
		}
		g, err := NewGateway(GatewayConfig{Token: testToken, Destinations: bridge, Upstreams: ups})
		assert.NilError(t, err)
		return g
	}
	byIP := gateway("https://172.17.0.5:8443/anthropic", "http://127.0.0.1")
	byName := gateway("https://model.internal:8443/anthropic")
	for _, tc := range []struct {
		g    *Gateway
		addr string
		ok   bool
	}{
		{byIP, "172.17.0.5:8443", true},
		{byIP, "172.17.0.5:443", false},
		{byIP, "172.17.0.6:8443", false},
		{byIP, "127.0.0.1:80", true},
		{byIP, "127.0.0.1:443", false},
		{byIP, "192.0.2.10:443", true}, // not local: the allowlist's business, not this check's
		{byName, "172.17.0.5:8443", false},
	} {
		err := bridge.Check(netip.MustParseAddrPort(tc.addr), tc.g.namedUpstream)
		if tc.ok {
			assert.Check(t, err, tc.addr)
		} else {
			assert.Check(t, is.ErrorType(err, &DestinationError{}), tc.addr)
		}
	}
}

// gatewayTrustingBoth serves a gateway whose upstream is api and whose
// roots trust other too, so that only its own routing keeps the key from
// other. It is closed when the test ends.
func gatewayTrustingBoth(t *testing.T, api, other *fakeAPI) *httptest.Server {
	t.Helper()
	roots, err := LoadRootCAs(api.caFile)
	assert.NilError(t, err)
	// One pool trusting both: httptest servers share their certificate,
	// but say so rather than rely on it.
	roots.AddCert(other.srv.Certificate())
	gw, err := NewGateway(GatewayConfig{Token: testToken, RootCAs: roots,
		Upstreams: []Upstream{{Vendor: Anthropic, URL: api.srv.URL, Key: realKeys[Anthropic]}}})
	assert.NilError(t, err)
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv
}

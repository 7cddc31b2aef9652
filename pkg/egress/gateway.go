package egress

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Upstream is one vendor API behind the gateway.
type Upstream struct {
	Vendor Vendor
	// URL is the API's base URL; empty means Vendor.DefaultUpstream().
	URL string
	// Key is the real API key. It lives only in the gateway's process.
	Key string
}

// GatewayConfig configures a Gateway.
type GatewayConfig struct {
	// Token is the run's session token (see NewSessionToken).
	Token string
	// Upstreams are the vendors served; at least one.
	Upstreams []Upstream
	// Recorder logs and counts decisions; nil logs to slog.Default.
	Recorder *Recorder
	// RootCAs verify upstream certificates; nil means the system pool
	// (which honours SSL_CERT_FILE). See LoadRootCAs.
	RootCAs *x509.CertPool
	// Destinations decides which resolved addresses may be dialled; nil
	// means HostDestinations, listed when the gateway is made. An upstream
	// URL whose host is an IP literal allows that address and port.
	Destinations *Destinations
	// Resolver resolves upstream names; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// Dial, when set, replaces the gateway's dialer and with it the
	// destination check; only tests may set it.
	Dial DialFunc
	// DialTimeout bounds resolving and connecting; zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration
}

// Gateway is the credential gateway. The sandbox talks plain HTTP to it with
// the session token as its API key; the gateway checks the token, swaps it
// for the vendor's real key and forwards the request over TLS to the
// vendor's API. Routes are path prefixes, one per vendor (see
// Vendor.BaseURL); GET /healthz answers 200.
//
// Refused, and never forwarded: a missing or wrong token (401), an unknown
// or unconfigured vendor prefix (404), any protocol upgrade such as a
// WebSocket (426, which Codex takes as "use HTTP"), and any call other than
// the few the vendor's agent CLI makes to its model (403; see apiCalls).
type Gateway struct {
	token     tokenMatcher
	upstreams map[Vendor]upstream
	rec       *Recorder
	transport *http.Transport
	relay     relayer
}

type upstream struct {
	url *url.URL
	key string
}

// NewGateway validates cfg and returns a Gateway.
func NewGateway(cfg GatewayConfig) (*Gateway, error) {
	if err := ValidateSessionToken(cfg.Token); err != nil {
		return nil, err
	}
	if len(cfg.Upstreams) == 0 {
		return nil, errors.New("no upstream configured")
	}
	g := &Gateway{token: newTokenMatcher(cfg.Token), upstreams: map[Vendor]upstream{}, rec: cfg.Recorder}
	for _, u := range cfg.Upstreams {
		if _, err := ParseVendor(string(u.Vendor)); err != nil {
			return nil, err
		}
		if _, dup := g.upstreams[u.Vendor]; dup {
			return nil, fmt.Errorf("%s: configured twice", u.Vendor)
		}
		if u.Key == "" {
			return nil, fmt.Errorf("%s: empty API key", u.Vendor)
		}
		raw := u.URL
		if raw == "" {
			raw = u.Vendor.DefaultUpstream()
		}
		parsed, err := parseUpstream(raw)
		if err != nil {
			return nil, fmt.Errorf("%s upstream: %w", u.Vendor, err)
		}
		g.upstreams[u.Vendor] = upstream{url: parsed, key: u.Key}
	}
	if g.rec == nil {
		g.rec = NewRecorder(nil)
	}
	dial := cfg.Dial
	if dial == nil {
		dests := cfg.Destinations
		if dests == nil {
			dests = hostDestinations()
		}
		dial = dests.dialer(cfg.Resolver, g.namedUpstream)
	}
	g.transport = &http.Transport{
		Proxy:               nil,
		DialContext:         withTimeout(dial, cfg.DialTimeout),
		TLSClientConfig:     &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}
	g.relay = relayer{
		transport:     g.transport,
		errorLog:      g.rec.errorLog(),
		flushInterval: -1,
		refusalPrefix: "sandbox gateway: ",
		hint:          gatewayHint,
	}
	return g, nil
}

// namedUpstream reports whether an upstream URL names ap by IP literal and
// port: the gateway's explicit allow for an address the destination check
// would refuse.
func (g *Gateway) namedUpstream(ap netip.AddrPort) bool {
	for _, up := range g.upstreams {
		ip, err := netip.ParseAddr(up.url.Hostname())
		if err != nil || ip.Unmap() != ap.Addr() {
			continue
		}
		if upstreamPort(up.url) == strconv.Itoa(int(ap.Port())) {
			return true
		}
	}
	return false
}

// Vendors lists the vendors the gateway serves.
func (g *Gateway) Vendors() []Vendor {
	var vs []Vendor
	for _, v := range Vendors {
		if _, ok := g.upstreams[v]; ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// Close drops idle upstream connections.
func (g *Gateway) Close() { g.transport.CloseIdleConnections() }

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isHealthCheck(r) {
		healthz(w)
		return
	}
	start := time.Now()
	e := Event{Component: componentGateway, Method: r.Method, Path: r.URL.Path}
	prefix, v, up, ok := g.route(r.URL.Path)
	if !ok {
		g.refuse(w, e, http.StatusNotFound, fmt.Sprintf("no route for %q: use /<vendor>/... with a configured vendor (%s)", r.URL.Path, vendorList(g.Vendors())))
		return
	}
	e.Host = string(v)
	if reason := g.authenticate(r, v); reason != "" {
		g.refuse(w, e, http.StatusUnauthorized, reason)
		return
	}
	if r.Header.Get("Upgrade") != "" || headerHasToken(r.Header, "Connection", "upgrade") {
		g.refuse(w, e, http.StatusUpgradeRequired, "protocol upgrades (WebSocket) are not supported; use plain HTTP")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, prefix)
	if !allowsCall(v, r.Method, path) {
		g.refuse(w, e, http.StatusForbidden, fmt.Sprintf("%s %s is not a call the gateway forwards to %s (only %s)",
			r.Method, truncate(path, maxLoggedPath), v, apiCallList(v)))
		return
	}
	g.relay.serve(w, r, func(pr *httputil.ProxyRequest) {
		// Forward the path that was checked, escaped afresh: never the
		// client's own escaping of it.
		pr.Out.URL.Path, pr.Out.URL.RawPath = path, ""
		v.setKey(pr.Out, up.key)
		pr.SetURL(up.url)
	}, func(x exchange) {
		e.Decision, e.Status, e.Reason, e.Bytes = Allow, x.Status, x.Reason, x.Bytes
		if x.Address != "" {
			e.Decision, e.Address = Deny, x.Address
		}
		e.Duration = time.Since(start)
		g.rec.Record(e)
	})
}

// route maps "/<vendor>/rest" to the vendor's upstream.
func (g *Gateway) route(path string) (prefix string, v Vendor, up upstream, ok bool) {
	name, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	v = Vendor(name)
	up, ok = g.upstreams[v]
	return "/" + name, v, up, ok
}

// authenticate returns why r is not authenticated, or "" when every
// credential it carries for v is the session token.
func (g *Gateway) authenticate(r *http.Request, v Vendor) string {
	creds := v.credentials(r)
	if len(creds) == 0 {
		return "missing session token"
	}
	// Check every candidate so the time taken does not say which one failed.
	good := true
	for _, c := range creds {
		good = g.token.match(c) && good
	}
	if !good {
		return "wrong session token"
	}
	return ""
}

func (g *Gateway) refuse(w http.ResponseWriter, e Event, status int, reason string) {
	e.Decision, e.Status, e.Reason = Deny, status, reason
	writeRefusal(w, status, "sandbox gateway: "+reason)
	g.rec.Record(e)
}

// headerHasToken reports whether a comma-separated header contains token,
// case-insensitively.
func headerHasToken(h http.Header, name, token string) bool {
	return slices.ContainsFunc(h.Values(name), func(v string) bool {
		return slices.ContainsFunc(strings.Split(v, ","), func(t string) bool {
			return strings.EqualFold(strings.TrimSpace(t), token)
		})
	})
}

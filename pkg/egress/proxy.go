package egress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Component names in events and stats.
const (
	componentProxy   = "proxy"
	componentGateway = "gateway"
)

// DefaultDialTimeout bounds name resolution plus connecting to an upstream.
const DefaultDialTimeout = 10 * time.Second

// DialFunc connects to addr ("host:port"), resolving the name itself; it has
// the signature of net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ProxyConfig configures a Proxy.
type ProxyConfig struct {
	// Allowlist decides which destinations may be reached; nil denies all.
	Allowlist *Allowlist
	// Recorder logs and counts decisions; nil logs to slog.Default.
	Recorder *Recorder
	// Destinations decides which resolved addresses may be dialled; nil
	// means HostDestinations, listed when the proxy is made. An address the
	// allowlist names as an IP literal (with its port) is always allowed.
	Destinations *Destinations
	// Resolver resolves upstream names; nil means net.DefaultResolver.
	// Tests inject one whose answers they control.
	Resolver *net.Resolver
	// Dial, when set, replaces the proxy's dialer and with it the
	// destination check: nothing but tests, which map names to loopback
	// upstreams this way, may set it.
	Dial DialFunc
	// DialTimeout bounds resolving and connecting; zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration
}

// Proxy is an allowlisting forward proxy: it tunnels CONNECT requests and
// forwards plain-HTTP requests in absolute form (GET http://host/path) to
// allowlisted destinations, and answers GET /healthz in origin form.
// Everything else is refused with a 4xx status and a one-line reason.
//
// Proxy is an http.Handler; serve it on an HTTP/1.1 server (CONNECT tunnels
// need to hijack the connection).
type Proxy struct {
	allow     *Allowlist
	dests     *Destinations
	rec       *Recorder
	dial      DialFunc
	transport *http.Transport
	relay     relayer

	mu      sync.Mutex
	closed  bool
	tunnels map[net.Conn]struct{}
	active  sync.WaitGroup
}

// NewProxy returns a Proxy for cfg.
func NewProxy(cfg ProxyConfig) *Proxy {
	allow := cfg.Allowlist
	if allow == nil {
		allow = &Allowlist{}
	}
	rec := cfg.Recorder
	if rec == nil {
		rec = NewRecorder(nil)
	}
	dests := cfg.Destinations
	if dests == nil {
		dests = hostDestinations()
	}
	dial := cfg.Dial
	if dial == nil {
		dial = dests.dialer(cfg.Resolver, allow.allowsAddr)
	}
	p := &Proxy{
		allow:   allow,
		dests:   dests,
		rec:     rec,
		dial:    withTimeout(dial, cfg.DialTimeout),
		tunnels: map[net.Conn]struct{}{},
	}
	rec.setAllow(allow.Entries())
	p.transport = &http.Transport{
		// Never chain to a proxy from this process's environment.
		Proxy:       nil,
		DialContext: p.dial,
		// Pass bodies through as they are instead of negotiating gzip and
		// decoding it behind the client's back.
		DisableCompression:  true,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
	}
	p.relay = relayer{
		transport:     p.transport,
		errorLog:      rec.errorLog(),
		refusalPrefix: "egress proxy: ",
		hint:          proxyHint,
	}
	return p
}

// withTimeout wraps dial so that resolving and connecting together take at
// most timeout.
func withTimeout(dial DialFunc, timeout time.Duration) DialFunc {
	if timeout <= 0 {
		timeout = DefaultDialTimeout
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return dial(ctx, network, addr)
	}
}

// Recorder returns the recorder the proxy logs and counts with.
func (p *Proxy) Recorder() *Recorder { return p.rec }

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		p.connect(w, r)
	case r.URL.IsAbs():
		p.forward(w, r)
	case isHealthCheck(r):
		healthz(w)
	default:
		p.refuse(w, Event{Method: r.Method}, http.StatusBadRequest,
			"not a proxy request: send CONNECT host:port or an absolute http:// URL")
	}
}

// refuse answers with status and a one-line reason, and records the denial.
func (p *Proxy) refuse(w http.ResponseWriter, e Event, status int, reason string) {
	e.Component, e.Decision, e.Status, e.Reason = componentProxy, Deny, status, reason
	p.answer(w, e, reason)
}

// answer writes an error response for e and records it. A refused CONNECT
// also closes the connection: a client may already have sent tunnel bytes
// behind the request, and they must not be read as the next request.
func (p *Proxy) answer(w http.ResponseWriter, e Event, reason string) {
	if e.Method == http.MethodConnect {
		w.Header().Set("Connection", "close")
	}
	writeRefusal(w, e.Status, "egress proxy: "+reason)
	p.rec.Record(e)
}

func writeRefusal(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// checkTarget applies the allowlist to t, refusing the request when it is not
// allowed.
func (p *Proxy) checkTarget(w http.ResponseWriter, e Event, t target) bool {
	ok, reason := p.allow.allows(t)
	if !ok {
		e.Entry = p.entry(t)
		if t.IP {
			// An address that the destination check would refuse too is
			// reported as local, never suggested for the allowlist.
			if a, err := netip.ParseAddr(t.Host); err == nil && p.dests.Check(netip.AddrPortFrom(a, uint16(t.Port)), nil) != nil {
				e.Address = t.Host
			}
		}
		p.refuse(w, e, http.StatusForbidden, reason)
	}
	return ok
}

// refuseDestination answers 403 when err says the destination check refused
// the address t resolved to, and reports whether it did.
func (p *Proxy) refuseDestination(w http.ResponseWriter, e Event, t target, err error) bool {
	reason, addr, refused := refusedDestination(t.Host, err, proxyHint)
	if refused {
		e.Entry, e.Address = p.entry(t), addr
		p.refuse(w, e, http.StatusForbidden, reason)
	}
	return refused
}

// entry is the allowlist entry that names t: the host alone when t's port is
// a default port, else host:port.
func (p *Proxy) entry(t target) string {
	if slices.Contains(p.allow.ports, t.Port) {
		return rule{host: t.Host}.String()
	}
	return t.addr()
}

// Close refuses new tunnels and ends every open one at once.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for c := range p.tunnels {
		c.Close()
	}
	p.transport.CloseIdleConnections()
}

// Shutdown refuses new tunnels, waits for open ones to end until ctx is
// done, then closes the rest.
func (p *Proxy) Shutdown(ctx context.Context) error {
	// Once closed is set no tunnel joins p.active, so waiting is sound.
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.active.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.Close()
	<-done
	return err
}

// track registers the connections of a tunnel so that Close can end it; it
// returns false when the proxy is already closing.
func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.active.Add(1)
	for _, c := range conns {
		p.tunnels[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	for _, c := range conns {
		delete(p.tunnels, c)
	}
	p.mu.Unlock()
	p.active.Done()
}

package egress

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"time"
)

// forward serves a plain-HTTP request in absolute form (GET http://host/path).
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	e := Event{Method: r.Method}
	if r.URL.Scheme != "http" {
		p.refuse(w, e, http.StatusBadRequest, fmt.Sprintf("unsupported scheme %q: use CONNECT for https", r.URL.Scheme))
		return
	}
	if r.URL.Host == "" {
		p.refuse(w, e, http.StatusBadRequest, "missing host in request URL")
		return
	}
	port := r.URL.Port()
	if port == "" {
		port = "80"
	}
	t, err := newTarget(r.URL.Hostname(), port)
	if err != nil {
		p.refuse(w, e, http.StatusBadRequest, fmt.Sprintf("bad request URL host %q: %v", r.URL.Host, err))
		return
	}
	e.Host, e.Port = t.Host, t.Port
	if !p.checkTarget(w, e, t) {
		return
	}
	p.relay.serve(w, r, func(pr *httputil.ProxyRequest) {
		pr.Out.URL.Scheme = "http"
		pr.Out.URL.Host = t.addr()
		// The Host header names the host that was checked, as the client
		// spelled it.
		pr.Out.Host = r.URL.Host
	}, func(x exchange) {
		e.Component, e.Decision = componentProxy, Allow
		if x.Address != "" {
			e.Decision, e.Entry, e.Address = Deny, p.entry(t), x.Address
		}
		e.Status, e.Reason, e.Bytes = x.Status, x.Reason, x.Bytes
		e.Duration = time.Since(start)
		p.rec.Record(e)
	})
}

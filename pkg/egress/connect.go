package egress

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/org/sandbox-action/pkg/forwarder"
)

// connect serves CONNECT host:port: check, dial, answer 200, then relay bytes
// both ways until both sides are done.
func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	e := Event{Method: r.Method}
	if r.URL.Host == "" {
		p.refuse(w, e, http.StatusBadRequest, fmt.Sprintf("bad CONNECT target %q: want host:port", r.RequestURI))
		return
	}
	t, err := parseHostPort(r.URL.Host)
	if err != nil {
		p.refuse(w, e, http.StatusBadRequest, fmt.Sprintf("bad CONNECT target %q: %v", r.URL.Host, err))
		return
	}
	e.Host, e.Port = t.Host, t.Port
	if !p.checkTarget(w, e, t) {
		return
	}
	up, err := p.dial(r.Context(), "tcp", t.addr())
	if p.refuseDestination(w, e, t, err) {
		return
	}
	if err != nil {
		p.upstreamFailed(w, e, start, err)
		return
	}
	client, buffered, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		p.upstreamFailed(w, e, start, fmt.Errorf("hijack: %w", err))
		return
	}
	e.Component, e.Decision, e.Status = componentProxy, Allow, http.StatusOK
	if !p.track(client, up) {
		// Recorded before the client sees the end of the answer, so that
		// whoever stops the proxy next finds it counted.
		e.Status, e.Reason, e.Duration = http.StatusServiceUnavailable, "proxy is shutting down", time.Since(start)
		p.rec.Record(e)
		io.WriteString(client, "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n")
		client.Close()
		up.Close()
		return
	}
	defer p.untrack(client, up)

	// The server's header timeouts no longer apply: a tunnel lives as long
	// as its two ends keep it open.
	client.SetDeadline(time.Time{})
	var relayed int64
	if _, err = io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err == nil {
		// A client may send its first bytes (a TLS ClientHello) without
		// waiting for our answer; they sit in the server's read buffer.
		if n := buffered.Reader.Buffered(); n > 0 {
			b, _ := buffered.Reader.Peek(n)
			var m int
			m, err = up.Write(b)
			relayed = int64(m)
		}
	}
	if err == nil {
		sent, received := relay(client, up)
		relayed += sent + received
	}
	client.Close()
	up.Close()
	e.Bytes, e.Duration = relayed, time.Since(start)
	p.rec.Record(e)
}

// upstreamFailed answers 502 for an allowed destination that could not be
// reached; the decision stays "allow", the reason says what failed.
func (p *Proxy) upstreamFailed(w http.ResponseWriter, e Event, start time.Time, err error) {
	e.Component, e.Decision, e.Status = componentProxy, Allow, http.StatusBadGateway
	e.Reason, e.Duration = err.Error(), time.Since(start)
	p.answer(w, e, e.Reason)
}

// relay copies in both directions until both are done and returns the byte
// counts. Between two TCP connections io.Copy splices in the kernel on Linux,
// so the proxy adds little to bulk transfers. A clean end of one direction is
// passed on as a half-close; an error ends both.
func relay(client, up net.Conn) (sent, received int64) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sent = pipe(up, client)
	}()
	received = pipe(client, up)
	wg.Wait()
	return sent, received
}

func pipe(dst, src net.Conn) int64 {
	n, err := io.Copy(netConn(dst), netConn(src))
	if err != nil {
		dst.Close()
		src.Close()
		return n
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	} else {
		dst.Close()
	}
	return n
}

// netConn returns the socket a connection from a handover listener wraps
// (see forwarder.Conn), which io.Copy can splice.
func netConn(c net.Conn) net.Conn {
	if fc, ok := c.(forwarder.Conn); ok {
		return fc.NetConn()
	}
	return c
}

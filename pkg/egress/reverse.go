package egress

import (
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"sync/atomic"
	"time"
)

// exchange is the outcome of one request relayed by reverseProxy.
type exchange struct {
	Status int
	Bytes  int64
	// Reason says why the exchange failed; empty on success.
	Reason string
	// Address is set when the destination check refused the upstream's
	// address (this address): a refusal, not a failure.
	Address string
}

// relayer relays requests to upstreams, shared by the forward proxy and the
// gateway.
type relayer struct {
	transport http.RoundTripper
	errorLog  *log.Logger
	// flushInterval -1 passes streamed responses (SSE) through as they
	// arrive.
	flushInterval time.Duration
	// refusalPrefix starts the body of an error response.
	refusalPrefix string
	// hint says how an address refused by the destination check could be
	// allowed on purpose.
	hint func(netip.AddrPort) string
}

// serve relays r after rewrite has pointed the outgoing request at its
// upstream, and calls done with the outcome, even when the response body
// copy is aborted. Bodies are counted in both directions.
func (rl relayer) serve(w http.ResponseWriter, r *http.Request, rewrite func(*httputil.ProxyRequest), done func(exchange)) {
	var bytes atomic.Int64
	var x exchange
	defer func() {
		v := recover()
		if v == http.ErrAbortHandler && x.Reason == "" {
			x.Reason = "response body copy aborted"
		}
		x.Bytes = bytes.Load()
		done(x)
		if v != nil {
			panic(v)
		}
	}()
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			rewrite(pr)
			if pr.Out.Body != nil {
				pr.Out.Body = &countingBody{ReadCloser: pr.Out.Body, n: &bytes}
			}
		},
		Transport:     rl.transport,
		FlushInterval: rl.flushInterval,
		ErrorLog:      rl.errorLog,
		ModifyResponse: func(resp *http.Response) error {
			x.Status = resp.StatusCode
			// A 101 body is the upgraded connection itself and must stay
			// an io.ReadWriteCloser.
			if resp.StatusCode != http.StatusSwitchingProtocols {
				resp.Body = &countingBody{ReadCloser: resp.Body, n: &bytes}
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, out *http.Request, err error) {
			if reason, addr, ok := refusedDestination(out.URL.Hostname(), err, rl.hint); ok {
				x.Status, x.Reason, x.Address = http.StatusForbidden, reason, addr
				writeRefusal(w, http.StatusForbidden, rl.refusalPrefix+reason)
				return
			}
			x.Status, x.Reason = http.StatusBadGateway, err.Error()
			writeRefusal(w, http.StatusBadGateway, rl.refusalPrefix+err.Error())
		},
	}
	rp.ServeHTTP(w, r)
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

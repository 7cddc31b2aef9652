package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Throughput probes: a server of bulk bytes and a client that times one
// download, for the throughput benchmark (internal/bench -throughput).

// maxBulk bounds what serve-bulk sends for one request.
const maxBulk = 4 << 30

// serveBulk serves GET /bytes/N (N bytes, with a Content-Length) over HTTPS
// on TLSADDR with the PEM certificate and key in CERT and KEY, and over
// plain HTTP on PLAINADDR. It prints "listening" once both are bound.
func serveBulk(a []string) error {
	tlsLn, err := net.Listen("tcp", arg(a, 0, ":443"))
	if err != nil {
		return err
	}
	plainLn, err := net.Listen("tcp", arg(a, 1, ":80"))
	if err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !serveBytes(w, r) {
			http.Error(w, "want GET /bytes/N", http.StatusNotFound)
		}
	})
	errc := make(chan error, 2)
	go func() {
		errc <- (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(plainLn)
	}()
	go func() {
		errc <- (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).ServeTLS(tlsLn, arg(a, 2, ""), arg(a, 3, ""))
	}()
	fmt.Println("listening", tlsLn.Addr(), plainLn.Addr())
	return <-errc
}

// bulkChunk is one buffer of varied bytes, sent again and again: nothing on
// the way could shrink it, and nothing is generated per request.
var bulkChunk = func() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}()

// serveBytes answers GET /bytes/N with N bytes and a Content-Length, and
// reports whether the path was one. With ?rate=R (bytes/s, R > 0) it paces
// the body to R, as a link of that speed would.
func serveBytes(w http.ResponseWriter, r *http.Request) bool {
	size, ok := strings.CutPrefix(r.URL.Path, "/bytes/")
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil || n < 0 || n > maxBulk {
		return false
	}
	var rate int64
	if q := r.URL.Query().Get("rate"); q != "" {
		if rate, err = strconv.ParseInt(q, 10, 64); err != nil || rate < 0 {
			return false
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	chunk := bulkChunk
	if rate > 0 {
		// Small writes, each sent when the link would have carried the
		// ones before it.
		chunk = chunk[:64<<10]
	}
	start := time.Now()
	var sent int64
	for sent < n {
		m, err := w.Write(chunk[:min(n-sent, int64(len(chunk)))])
		if err != nil {
			break
		}
		sent += int64(m)
		if rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))))
		}
	}
	return true
}

// download GETs URL once and prints "bytes=N seconds=S", S being the time
// from dialling to the last byte of the body. VIA is "proxy" for a tunnel
// through the proxy $HTTPS_PROXY names (CONNECT, for http:// URLs too, as
// a client that tunnels everything does), or HOST:PORT to dial directly
// instead of resolving the URL's host. CAFILE, for https, holds the roots
// the server's certificate must chain to; the URL's host is checked
// against it either way.
func download(a []string) error {
	u, err := url.Parse(arg(a, 0, ""))
	if err != nil {
		return err
	}
	via, caFile := arg(a, 1, "proxy"), arg(a, 2, "")
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	target := net.JoinHostPort(u.Hostname(), port)
	var dial func(ctx context.Context) (net.Conn, error)
	if via == "proxy" {
		p, err := url.Parse(os.Getenv("HTTPS_PROXY"))
		if err != nil || p.Host == "" {
			return fmt.Errorf("HTTPS_PROXY %q: not a proxy URL", os.Getenv("HTTPS_PROXY"))
		}
		dial = func(ctx context.Context) (net.Conn, error) { return tunnel(ctx, p.Host, target) }
	} else {
		dial = func(ctx context.Context) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", via)
		}
	}
	tr := &http.Transport{
		DialContext:        func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		DisableCompression: true,
		DisableKeepAlives:  true,
		ForceAttemptHTTP2:  false,
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s: no certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	// A large buffer, as a client saving a download uses (io.Discard
	// would read in 8 KB pieces).
	n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, resp.Body, make([]byte, 256<<10))
	took := time.Since(start)
	if err != nil {
		return err
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("got %d bytes of %d", n, resp.ContentLength)
	}
	fmt.Printf("bytes=%d seconds=%.6f\n", n, took.Seconds())
	return nil
}

// tunnel opens a CONNECT tunnel to target through the proxy at proxyAddr.
func tunnel(ctx context.Context, proxyAddr, target string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", proxyAddr)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, fmt.Errorf("CONNECT %s: %s", target, resp.Status)
	}
	// The server says nothing before our request, so nothing of the tunnel
	// can be in the reader's buffer.
	if br.Buffered() > 0 {
		c.Close()
		return nil, errors.New("CONNECT: proxy sent bytes after its answer")
	}
	return c, nil
}

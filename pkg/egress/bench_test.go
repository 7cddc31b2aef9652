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
	"strconv"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

const downloadSize = 100 << 20

var chunk = make([]byte, 1<<20)

func writeDownload(w io.Writer) {
	for sent := 0; sent < downloadSize; sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// drain reads r to the end with a large buffer, the way a client saving a
// download would, and returns the byte count.
func drain(r io.Reader, buf []byte) int64 {
	var n int64
	for {
		m, err := r.Read(buf)
		n += int64(m)
		if err != nil {
			return n
		}
	}
}

// BenchmarkConnectThroughput downloads 100 MB on loopback directly and
// through a CONNECT tunnel, alternating which goes first, and reports both
// rates and their ratio:
//
//   - tcp: raw bytes, the proxy's pure relay cost (worst case: loopback is
//     infinitely fast, so the extra hop shows in full);
//   - https: an HTTPS download, what CONNECT actually carries.
func BenchmarkConnectThroughput(b *testing.B) {
	b.Run("tcp", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		assert.NilError(b, err)
		b.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { defer c.Close(); writeDownload(c) }()
			}
		}()
		src := ln.Addr().String()
		tp := startProxy(b, []string{"bulk.example.com"}, map[string]string{"bulk.example.com:443": src})
		buf := make([]byte, 256<<10)
		direct := func() int64 {
			c, err := net.Dial("tcp", src)
			assert.NilError(b, err)
			defer c.Close()
			return drain(c, buf)
		}
		proxied := func() int64 {
			c, err := net.Dial("tcp", tp.addr)
			assert.NilError(b, err)
			defer c.Close()
			_, err = io.WriteString(c, "CONNECT bulk.example.com:443 HTTP/1.1\r\nHost: bulk.example.com:443\r\n\r\n")
			assert.NilError(b, err)
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
			assert.NilError(b, err)
			assert.Equal(b, resp.StatusCode, http.StatusOK)
			// What the response reader buffered is already body; the rest
			// comes straight from the socket, as in the direct case.
			return drain(io.LimitReader(br, int64(br.Buffered())), buf) + drain(c, buf)
		}
		compare(b, direct, proxied)
	})
	b.Run("https", func(b *testing.B) {
		src := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(downloadSize))
			writeDownload(w)
		}))
		src.StartTLS()
		b.Cleanup(src.Close)
		tp := startProxy(b, []string{"example.com"}, map[string]string{"example.com:443": src.Listener.Addr().String()})
		roots := x509.NewCertPool()
		roots.AddCert(src.Certificate())
		tlsConfig := &tls.Config{RootCAs: roots}
		// The certificate names example.com; directly, it maps to the
		// source, and through the proxy the proxy maps it.
		directClient := &http.Client{Transport: &http.Transport{
			DialContext:       (&loopbackDialer{routes: map[string]string{"example.com:443": src.Listener.Addr().String()}}).Dial,
			TLSClientConfig:   tlsConfig,
			DisableKeepAlives: true,
		}}
		proxyClient := &http.Client{Transport: &http.Transport{
			Proxy:             http.ProxyURL(&url.URL{Scheme: "http", Host: tp.addr}),
			TLSClientConfig:   tlsConfig,
			DisableKeepAlives: true,
		}}
		buf := make([]byte, 256<<10)
		get := func(c *http.Client) func() int64 {
			return func() int64 {
				resp, err := c.Get("https://example.com/download")
				assert.NilError(b, err)
				defer resp.Body.Close()
				return drain(resp.Body, buf)
			}
		}
		compare(b, get(directClient), get(proxyClient))
	})
}

// compare times direct and proxied downloads, alternating their order, and
// reports both rates and their ratio.
func compare(b *testing.B, direct, proxied func() int64) {
	timed := func(f func() int64) time.Duration {
		start := time.Now()
		assert.Equal(b, f(), int64(downloadSize))
		return time.Since(start)
	}
	var d, p time.Duration
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			d += timed(direct)
			p += timed(proxied)
		} else {
			p += timed(proxied)
			d += timed(direct)
		}
	}
	b.StopTimer()
	mb := float64(downloadSize) / (1 << 20) * float64(b.N)
	dr, pr := mb/d.Seconds(), mb/p.Seconds()
	b.ReportMetric(dr, "direct-MB/s")
	b.ReportMetric(pr, "proxy-MB/s")
	b.ReportMetric(pr/dr, "proxy/direct")
	b.Log(fmt.Sprintf("100 MB: direct %.0f MB/s, via CONNECT %.0f MB/s, ratio %.2f", dr, pr, pr/dr))
}

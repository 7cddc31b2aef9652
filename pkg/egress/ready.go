package egress

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// HealthPath is answered with 200 "ok" by both the proxy and the gateway
// listener (in origin form: GET /healthz, not through the proxy).
const HealthPath = "/healthz"

// DefaultReadyInterval is how often WaitReady polls.
const DefaultReadyInterval = 100 * time.Millisecond

func isHealthCheck(r *http.Request) bool {
	return r.URL.Path == HealthPath && (r.Method == http.MethodGet || r.Method == http.MethodHead)
}

// healthz answers a health check. Listeners are bound before anything is
// served, so any answer means the process is ready.
func healthz(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// WaitReady polls rawURL (e.g. "http://10.0.0.2:3128/healthz") every interval
// (DefaultReadyInterval when zero) until it answers 200 or ctx is done. It
// never goes through a proxy from the environment.
func WaitReady(ctx context.Context, rawURL string, interval time.Duration) error {
	if interval <= 0 {
		interval = DefaultReadyInterval
	}
	if u, err := url.Parse(rawURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("wait for proxy: invalid health URL %q: want http://host:port%s", rawURL, HealthPath)
	}
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		// One slow answer must not hold up the next poll for long.
		Timeout: max(interval, time.Second),
	}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last error
	for {
		err := probe(ctx, client, rawURL)
		if err == nil {
			return nil
		}
		// An attempt cut short by ctx says nothing about the proxy: report
		// the last one that got an answer, if any did.
		if ctx.Err() == nil || last == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last attempt: %v)", rawURL, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

func probe(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

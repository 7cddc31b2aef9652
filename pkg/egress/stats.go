package egress

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Decision is what the proxy or gateway did with a request.
type Decision string

const (
	Allow Decision = "allow"
	Deny  Decision = "deny"
)

// Keys under which requests without a usable name are counted, so that a
// client sending garbage cannot grow the tables without bound.
const (
	keyMalformed = "(malformed)"
	keyOther     = "(other)"
)

// maxKeys bounds the per-host table; further hosts are counted under "(other)".
const maxKeys = 1024

// maxLoggedPath bounds the path in a log line; a client controls it.
const maxLoggedPath = 256

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Event is one decision: logged as one JSON line and counted.
type Event struct {
	// Component is "proxy" or "gateway".
	Component string
	Method    string
	// Host is the destination (proxy) or the vendor (gateway); empty when
	// the request was too malformed to name one.
	Host     string
	Port     int
	Path     string
	Decision Decision
	Reason   string
	Status   int
	// Bytes counts body bytes in both directions (for a tunnel, everything
	// relayed).
	Bytes    int64
	Duration time.Duration
	// Entry is, for a destination the proxy refused, the allowlist entry
	// that would name it ("pypi.org", "example.com:8443"): what the deny
	// report suggests.
	Entry string
	// Address is set when the destination was refused by address (see
	// Destinations): the address it is or resolved to.
	Address string
}

// Count is the tally for one host or vendor.
type Count struct {
	Allowed int64 `json:"allowed"`
	Denied  int64 `json:"denied"`
	Bytes   int64 `json:"bytes"`
}

// Tally is the tally for one component, in total and per host or vendor.
type Tally struct {
	Count
	Hosts map[string]Count `json:"hosts"`
}

// Stats is a snapshot of every decision so far, ready for the run summary.
type Stats struct {
	Proxy   Tally `json:"proxy"`
	Gateway Tally `json:"gateway"`
	// Allow is the proxy's allowlist as given (bundles by name), so that a
	// deny report can print a whole configuration line.
	Allow []string `json:"allow,omitempty"`
	// Denials are the destinations the proxy refused, sorted by target.
	Denials []Denial `json:"denials,omitempty"`
}

// Denial counts the requests the proxy refused for one destination.
type Denial struct {
	// Target is the destination as host:port, normalised.
	Target string `json:"target"`
	// Entry is the allowlist entry that would name it: the host alone when
	// the port is a default port.
	Entry string `json:"entry"`
	// Address is set when the destination was refused by address: it is,
	// or resolved to, an address of this host, its networks, loopback,
	// link-local or the like. Such a destination is reported, never
	// suggested.
	Address string `json:"address,omitempty"`
	Count   int64  `json:"count"`
}

// Recorder logs and counts decisions. It is safe for concurrent use; the
// proxy and the gateway of one process share one.
type Recorder struct {
	log *slog.Logger

	mu      sync.Mutex
	stats   Stats
	denials map[denialKey]int64
}

type denialKey struct{ target, entry, address string }

// NewRecorder returns a Recorder logging to log (slog.Default when nil).
func NewRecorder(log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.Default()
	}
	return &Recorder{log: log, stats: Stats{
		Proxy:   Tally{Hosts: map[string]Count{}},
		Gateway: Tally{Hosts: map[string]Count{}},
	}, denials: map[denialKey]int64{}}
}

// setAllow records the proxy's allowlist for Stats.
func (r *Recorder) setAllow(entries []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Allow = slices.Clone(entries)
}

// errorLog adapts the recorder's logger for net/http's error reports.
func (r *Recorder) errorLog() *log.Logger {
	return slog.NewLogLogger(r.log.Handler(), slog.LevelWarn)
}

// Record logs e and adds it to the counts.
func (r *Recorder) Record(e Event) {
	level := slog.LevelInfo
	if e.Decision == Deny {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("component", e.Component),
		slog.String("method", e.Method),
		slog.String("host", e.Host),
	}
	if e.Port != 0 {
		attrs = append(attrs, slog.Int("port", e.Port))
	}
	if e.Path != "" {
		attrs = append(attrs, slog.String("path", truncate(e.Path, maxLoggedPath)))
	}
	if e.Address != "" {
		attrs = append(attrs, slog.String("address", e.Address))
	}
	attrs = append(attrs,
		slog.String("decision", string(e.Decision)),
		slog.String("reason", e.Reason),
		slog.Int("status", e.Status),
		slog.Int64("bytes", e.Bytes),
		slog.Float64("duration_ms", float64(e.Duration.Microseconds())/1000),
	)
	r.log.LogAttrs(context.Background(), level, "egress", attrs...)

	r.mu.Lock()
	defer r.mu.Unlock()
	t := &r.stats.Proxy
	if e.Component == "gateway" {
		t = &r.stats.Gateway
	}
	key := e.Host
	if key == "" {
		key = keyMalformed
	}
	c, ok := t.Hosts[key]
	if !ok && len(t.Hosts) >= maxKeys {
		key = keyOther
		c = t.Hosts[key]
	}
	for _, c := range []*Count{&c, &t.Count} {
		if e.Decision == Allow {
			c.Allowed++
		} else {
			c.Denied++
		}
		c.Bytes += e.Bytes
	}
	t.Hosts[key] = c
	if e.Decision == Deny && e.Entry != "" {
		k := denialKey{target{Host: e.Host, Port: e.Port}.addr(), e.Entry, e.Address}
		if _, ok := r.denials[k]; !ok && len(r.denials) >= maxKeys {
			k = denialKey{target: keyOther, entry: keyOther}
		}
		r.denials[k]++
	}
}

// Stats returns a snapshot of the counts.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Proxy.Hosts = maps.Clone(s.Proxy.Hosts)
	s.Gateway.Hosts = maps.Clone(s.Gateway.Hosts)
	s.Allow = slices.Clone(s.Allow)
	s.Denials = nil
	for k, n := range r.denials {
		s.Denials = append(s.Denials, Denial{Target: k.target, Entry: k.entry, Address: k.address, Count: n})
	}
	slices.SortFunc(s.Denials, func(a, b Denial) int {
		return cmp.Or(strings.Compare(a.Target, b.Target), strings.Compare(a.Address, b.Address))
	})
	return s
}

// Summary renders the counts on one line for a run summary, naming the
// hosts that were denied: those are what a person needs to act on.
func (s Stats) Summary() string {
	return fmt.Sprintf("proxy %s; gateway %s", s.Proxy.summary(), s.Gateway.summary())
}

func (t Tally) summary() string {
	line := fmt.Sprintf("%d allowed, %d denied, %d bytes", t.Allowed, t.Denied, t.Bytes)
	var denied []string
	for _, h := range slices.Sorted(maps.Keys(t.Hosts)) {
		if c := t.Hosts[h]; c.Denied > 0 {
			denied = append(denied, fmt.Sprintf("%s×%d", h, c.Denied))
		}
	}
	if len(denied) > 0 {
		line += " (denied: " + strings.Join(denied, ", ") + ")"
	}
	return line
}

package engine

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Timings are the phases of one run, measured with the monotonic clock from
// the moment the engine was asked to run.
type Timings struct {
	// Prepare covers the lock, the image check and, in private mode,
	// creating the network and starting the proxy.
	Prepare time.Duration
	// Proxy is from starting the egress proxy until it served (private
	// mode); it overlaps creating the sandbox.
	Proxy time.Duration
	// Create is the container create call.
	Create time.Duration
	// Start covers attaching and starting the container.
	Start time.Duration
	// FirstOutput is from the start call to the first byte on stdout or
	// stderr, and never less than Start; zero if the command printed
	// nothing.
	FirstOutput time.Duration
	// Exit is from the start call to the container's exit.
	Exit time.Duration
	// Cleanup is stopping and removing what the run created.
	Cleanup time.Duration
	// Total is the whole run, cleanup included.
	Total time.Duration
}

// String renders the phases on one line, e.g. for `sandbox run --timings`.
func (t Timings) String() string {
	var b strings.Builder
	for _, p := range []struct {
		name string
		d    time.Duration
	}{
		{"prepare", t.Prepare}, {"proxy-ready", t.Proxy}, {"create", t.Create}, {"start", t.Start},
		{"first-output", t.FirstOutput}, {"exit", t.Exit}, {"cleanup", t.Cleanup}, {"total", t.Total},
	} {
		if (p.name == "proxy-ready" || p.name == "first-output") && p.d == 0 {
			continue // public mode has no proxy; a silent command no output
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", p.name, p.d.Round(100*time.Microsecond))
	}
	return b.String()
}

// firstByte records when any of the writers it wraps first receives output.
type firstByte struct {
	once sync.Once
	at   time.Time
	mu   sync.Mutex
}

func (f *firstByte) wrap(w io.Writer) io.Writer {
	if w == nil {
		w = io.Discard
	}
	return writerFunc(func(p []byte) (int, error) {
		if len(p) > 0 {
			f.once.Do(func() {
				f.mu.Lock()
				f.at = time.Now()
				f.mu.Unlock()
			})
		}
		return w.Write(p)
	})
}

func (f *firstByte) since(t time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.at.IsZero() {
		return 0
	}
	return f.at.Sub(t)
}

type writerFunc func([]byte) (int, error)

func (fn writerFunc) Write(p []byte) (int, error) { return fn(p) }

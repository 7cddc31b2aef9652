package agent

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// transcript is every recording of agent, concatenated and repeated to at
// least size bytes.
func transcript(tb testing.TB, agent string, size int) []byte {
	var one []byte
	for _, f := range recordings(tb, agent) {
		one = append(one, mustRead(tb, f)...)
	}
	return bytes.Repeat(one, size/len(one)+1)
}

func BenchmarkParse(b *testing.B) {
	for _, agent := range []string{"claude", "codex", "gemini"} {
		b.Run(agent, func(b *testing.B) {
			data := transcript(b, agent, 8<<20)
			a, _ := Get(agent)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			events := 0
			for b.Loop() {
				p := a.NewParser(func(Event) { events++ })
				if err := p.Parse(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
				p.Finish(0, nil)
			}
		})
	}
}

// repeater yields data over and over until n bytes were read, so a huge
// stream costs no memory of its own.
type repeater struct {
	data []byte
	off  int
	n    int64
}

func (r *repeater) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	k := copy(p, r.data[r.off:])
	r.off = (r.off + k) % len(r.data)
	r.n -= int64(k)
	return k, nil
}

// BenchmarkStream100MB streams a 100 MB transcript per agent and reports how
// far the heap and the process's resident set grew over their starting
// point (targets: at most 30 MB each).
func BenchmarkStream100MB(b *testing.B) {
	for _, agent := range []string{"claude", "codex", "gemini"} {
		b.Run(agent, func(b *testing.B) {
			a, _ := Get(agent)
			data := transcript(b, agent, 1<<20)
			var heapGrowth, rssGrowth float64
			for b.Loop() {
				h, r := streamGrowth(b, a, data, 100<<20)
				heapGrowth, rssGrowth = max(heapGrowth, h), max(rssGrowth, r)
			}
			b.SetBytes(100 << 20)
			b.ReportMetric(heapGrowth, "heap-growth-MB")
			b.ReportMetric(rssGrowth, "rss-growth-MB")
		})
	}
}

// streamGrowth parses size bytes of data repeated and returns the peak growth
// of the live heap and of the resident set, in MB.
func streamGrowth(tb testing.TB, a Adapter, data []byte, size int64) (heapMB, rssMB float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	peak := base
	resetPeakRSS(tb)
	rss0 := procStatus(tb, "VmRSS")
	n := 0
	p := a.NewParser(func(Event) {
		if n++; n%20000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	})
	if err := p.Parse(&repeater{data: data, n: size}); err != nil {
		tb.Fatal(err)
	}
	p.Finish(0, nil)
	const mb = 1 << 20
	return float64(peak-base) / mb, float64(procStatus(tb, "VmHWM")-rss0) / mb
}

// resetPeakRSS resets the kernel's high-water mark of the resident set.
func resetPeakRSS(tb testing.TB) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Fatalf("reset peak RSS: %v", err)
	}
}

// procStatus reads a "kB" field of /proc/self/status, in bytes.
func procStatus(tb testing.TB, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// TestStreamMemoryIsFlat guards what BenchmarkStream100MB measures: a long
// stream must not make the parser hold on to what it has read.
func TestStreamMemoryIsFlat(t *testing.T) {
	const size = 16 << 20
	for _, agent := range []string{"claude", "codex", "gemini"} {
		a, _ := Get(agent)
		heap, _ := streamGrowth(t, a, transcript(t, agent, 1<<20), size)
		if heap > 10 {
			t.Errorf("%s: heap grew by %.1f MB while streaming %d MB", agent, heap, size>>20)
		}
	}
}

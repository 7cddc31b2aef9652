package forwarder

import (
	"io"
	"net"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// downloadSize is what each download of BenchmarkRelayDownload moves.
const downloadSize = 100 << 20

// BenchmarkRelayDownload downloads 100 MB straight over loopback TCP and
// through the forwarder, in interleaved pairs, and reports both medians and
// relayed/direct throughput (goal ≥ 0.9):
//
//   - handover: the server behind the socket takes the connection handed
//     over and sends on it directly, as the egress proxy does;
//   - relay: the server refuses the handover, and the forwarder copies the
//     bytes (what gVisor gets).
func BenchmarkRelayDownload(b *testing.B) {
	b.Run("handover", func(b *testing.B) {
		benchmarkRelayDownload(b, func(ln net.Listener) net.Listener { return HandoverListener(ln) })
	})
	b.Run("relay", func(b *testing.B) {
		benchmarkRelayDownload(b, func(ln net.Listener) net.Listener { return refusingListener{ln} })
	})
}

// refusingListener refuses every handover: it reads the marker without
// room for a descriptor, which the kernel then discards.
type refusingListener struct{ net.Listener }

func (l refusingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err == nil && b[0] == handoverMarker {
		_, err = c.Write([]byte{handoverRefused})
	}
	return c, err
}

func benchmarkRelayDownload(b *testing.B, wrap func(net.Listener) net.Listener) {
	direct, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer direct.Close()
	go sendAll(direct)
	socket := filepath.Join(b.TempDir(), "proxy.sock")
	unix, err := net.Listen("unix", socket)
	if err != nil {
		b.Fatal(err)
	}
	upstream := wrap(unix)
	defer upstream.Close()
	go sendAll(upstream)
	relayed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer relayed.Close()
	go serve(relayed, socket)

	// Each download's wall time and the CPU time the whole process (server,
	// forwarder and client, kernel time included) spent on it: the CPU
	// time holds up under load from elsewhere, which the wall time does
	// not.
	download := func(addr string) (wall, cpu time.Duration) {
		cpu0 := cpuTime(b)
		start := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, c)
		c.Close()
		if err != nil || n != downloadSize {
			b.Fatalf("downloaded %d bytes: %v", n, err)
		}
		return time.Since(start), cpuTime(b) - cpu0
	}
	var ds, rs, dcpu, rcpu []time.Duration
	b.SetBytes(2 * downloadSize)
	for i := 0; b.Loop(); i++ {
		order := []bool{false, true}
		if i%2 == 1 {
			order = []bool{true, false}
		}
		for _, relay := range order {
			if relay {
				w, c := download(relayed.Addr().String())
				rs, rcpu = append(rs, w), append(rcpu, c)
			} else {
				w, c := download(direct.Addr().String())
				ds, dcpu = append(ds, w), append(dcpu, c)
			}
		}
	}
	md, mr := median(ds), median(rs)
	b.ReportMetric(mbps(md), "direct-MB/s")
	b.ReportMetric(mbps(mr), "relayed-MB/s")
	b.ReportMetric(float64(md)/float64(mr), "relayed/direct")
	b.ReportMetric(float64(median(dcpu).Milliseconds()), "direct-cpu-ms")
	b.ReportMetric(float64(median(rcpu).Milliseconds()), "relayed-cpu-ms")
}

// cpuTime is the user and system time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sendAll answers every connection with downloadSize bytes.
func sendAll(ln net.Listener) {
	buf := make([]byte, 256<<10)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			for sent := 0; sent < downloadSize; sent += len(buf) {
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func mbps(d time.Duration) float64 { return downloadSize / d.Seconds() / (1 << 20) }

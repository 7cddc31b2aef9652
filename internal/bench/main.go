// Command bench measures `sandbox run` against `docker run --rm` on the same
// local image, as N interleaved rounds in one run, and prints the medians and
// their ratio. Interleaving spreads any drift of the machine (page cache,
// daemon state) evenly over both sides.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"
	"github.com/org/sandbox-action/internal/testimage"
)

func main() {
	ctx, done := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := realMain(ctx)
	done()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context) error {
	n := flag.Int("n", 20, "interleaved rounds to run")
	sandbox := flag.String("sandbox", "bin/sandbox", "sandbox binary to measure")
	flag.Parse()
	if *n < 1 {
		return fmt.Errorf("-n must be at least 1, got %d", *n)
	}

	c, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := testimage.Build(ctx, c, testimage.ToolboxSpec(testimage.ToolboxTag)); err != nil {
		return err
	}
	ws, err := os.MkdirTemp("", "sandbox-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ws)
	bin, err := filepath.Abs(*sandbox)
	if err != nil {
		return err
	}

	sandboxArgs := []string{"--image", testimage.ToolboxTag, "--workspace", ws, "--", "/toolbox", "echo", "hi"}
	// The same hardened container through the docker CLI: what `sandbox
	// cmd` prints. It tells the cost of the hardening from the cost of the
	// tool.
	hardened, err := exec.CommandContext(ctx, bin, append([]string{"cmd"}, sandboxArgs...)...).Output()
	if err != nil {
		return fmt.Errorf("sandbox cmd: %w", err)
	}
	sides := []struct {
		name string
		argv []string
	}{
		{"docker run --rm", []string{"docker", "run", "--rm", testimage.ToolboxTag, "/toolbox", "echo", "hi"}},
		{"sandbox run", append([]string{bin, "run"}, sandboxArgs...)},
		{"docker run (hardened)", []string{"bash", "-c", string(hardened)}},
	}
	// One warm-up each, not measured: first runs pay for cold caches.
	for _, s := range sides {
		if _, err := timeRun(ctx, s.argv); err != nil {
			return err
		}
	}
	times := make([][]time.Duration, len(sides))
	for i := 0; i < *n; i++ {
		for j, s := range sides {
			d, err := timeRun(ctx, s.argv)
			if err != nil {
				return err
			}
			times[j] = append(times[j], d)
		}
	}
	base, ours := median(times[0]), median(times[1])
	fmt.Printf("rounds: %d (interleaved), image %s, command: /toolbox echo hi\n", *n, testimage.ToolboxTag)
	for j, s := range sides {
		fmt.Printf("%-22s median %7.1f ms  min %7.1f ms  max %7.1f ms\n", s.name, ms(median(times[j])), ms(slices.Min(times[j])), ms(slices.Max(times[j])))
	}
	fmt.Printf("ratio sandbox/docker: %.3f (goal ≤ 1.05, stretch ≤ 0.95)\n", float64(ours)/float64(base))
	return nil
}

func timeRun(ctx context.Context, argv []string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%v: %w\n%s", argv, err, stderr.String())
	}
	if string(out) != "hi\n" {
		return 0, fmt.Errorf("%v printed %q, want \"hi\\n\"", argv, out)
	}
	return d, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

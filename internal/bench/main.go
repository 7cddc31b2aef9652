// Command bench measures `sandbox run` against `docker run --rm` on the same
// local image, under runc and gVisor, public and private, as N interleaved
// rounds in one run, and prints the medians and their ratios. Interleaving spreads any drift of the machine (page cache,
// daemon state) evenly over both sides.
//
// With -throughput it then compares downloads from inside a sandbox: direct
// from a public one, and through the forwarder and egress proxy of a
// private one on each transport (see throughput.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/gvisor"
	"github.com/org/sandbox-action/pkg/spec"
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
	gvisor := flag.Bool("gvisor", true, "also measure gVisor (needs `make gvisor`)")
	private := flag.Bool("private", true, "also measure private mode, on each proxy transport")
	startup := flag.Bool("startup", true, "measure the time of a trivial run")
	tput := flag.Bool("throughput", true, "measure downloads, direct and through each proxy transport")
	tputN := flag.Int("throughput-n", 15, "interleaved rounds of the throughput benchmark")
	sizeMB := flag.Int64("size", 100, "MB per download of the throughput benchmark")
	sidesRE := flag.String("sides", "", "a regular expression: only the downloads whose names it matches (and the direct ones they are compared with)")
	rate := flag.Int64("rate", 0, "MB/s the download server paces each download to, as a network link would (0: as fast as the machine allows)")
	compare := flag.String("compare", "", "a second sandbox binary whose forwarder and host proxy the throughput benchmark measures beside the first")
	flag.Parse()
	if *n < 1 || *tputN < 1 {
		return fmt.Errorf("-n and -throughput-n must be at least 1, got %d and %d", *n, *tputN)
	}
	if *rate < 0 {
		return fmt.Errorf("-rate must not be negative, got %d", *rate)
	}
	if *sizeMB < 1 {
		return fmt.Errorf("-size must be at least 1, got %d", *sizeMB)
	}

	c, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := testimage.Build(ctx, c, testimage.ToolboxSpec(testimage.ToolboxTag)); err != nil {
		return err
	}
	// The container transport's proxy: this tree's sandbox binary on
	// scratch, as the product image has it.
	const proxyTag = "sandbox-action-test/bench-proxy:dev"
	if *private || *tput {
		if err := testimage.Build(ctx, c, testimage.Spec{
			Tag:        proxyTag,
			Binaries:   map[string]string{"/usr/local/bin/sandbox": "./cmd/sandbox"},
			Entrypoint: []string{"/usr/local/bin/sandbox"},
		}); err != nil {
			return err
		}
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
	if *startup {
		if err := startupBench(ctx, c, bin, ws, *n, *gvisor, *private, proxyTag); err != nil {
			return err
		}
	}
	if !*tput {
		return nil
	}
	var cmpBin string
	if *compare != "" {
		if cmpBin, err = filepath.Abs(*compare); err != nil {
			return err
		}
	}
	// A toolbox of this tree's content under its own tag: its download
	// probes must be the ones built here.
	toolbox, err := testimage.EnsureContext(ctx, c, testimage.ToolboxSpec("sandbox-action-test/bench-toolbox:dev"))
	if err != nil {
		return err
	}
	host, err := engine.New(c).Host(ctx)
	if err != nil {
		return err
	}
	var sides *regexp.Regexp
	if *sidesRE != "" {
		if sides, err = regexp.Compile(*sidesRE); err != nil {
			return fmt.Errorf("-sides: %w", err)
		}
	}
	return throughput(ctx, c, throughputConfig{
		rounds: *tputN, size: *sizeMB << 20, rate: *rate << 20, bin: bin, toolbox: toolbox, proxy: proxyTag,
		compare: cmpBin, gvisor: *gvisor, host: host, sides: sides,
	})
}

// startupBench times a trivial command, interleaved over every side, and
// prints the medians and the ratios the issue sets goals for.
func startupBench(ctx context.Context, c *client.Client, bin, ws string, n int, gvisor, private bool, proxyTag string) error {

	sandboxArgs := []string{"--image", testimage.ToolboxTag, "--workspace", ws}
	cmdArgs := []string{"--", "/toolbox", "echo", "hi"}
	// The same hardened container through the docker CLI: what `sandbox
	// cmd` prints. It tells the cost of the hardening from the cost of the
	// tool.
	hardened := func(extra ...string) ([]string, error) {
		line, err := exec.CommandContext(ctx, bin, slices.Concat([]string{"cmd"}, sandboxArgs, extra, cmdArgs)...).Output()
		if err != nil {
			return nil, fmt.Errorf("sandbox cmd %s: %w", strings.Join(extra, " "), err)
		}
		return []string{"bash", "-c", string(line)}, nil
	}
	run := func(extra ...string) []string {
		return slices.Concat([]string{bin, "run"}, sandboxArgs, extra, cmdArgs)
	}
	// Private is the default network: the public sides opt out, the
	// private ones say so too.
	public := []string{"--network", "public"}
	plain, err := hardened(public...)
	if err != nil {
		return err
	}
	sides := []side{
		{"docker run --rm", []string{"docker", "run", "--rm", testimage.ToolboxTag, "/toolbox", "echo", "hi"}},
		{"sandbox run", run(public...)},
		{"docker run (hardened)", plain},
	}
	if gvisor {
		// gVisor as --type gvisor picks it for a public run, on its own and
		// inside the sandbox.
		rt, err := gvisorRuntime(ctx, c)
		if err != nil {
			return err
		}
		gv, err := hardened(slices.Concat(public, []string{"--type", "gvisor"})...)
		if err != nil {
			return err
		}
		sides = append(sides,
			side{"docker run --rm (" + rt + ")", []string{"docker", "run", "--rm", "--runtime", rt, testimage.ToolboxTag, "/toolbox", "echo", "hi"}},
			side{"sandbox run --type gvisor", run(slices.Concat(public, []string{"--type", "gvisor"})...)},
			side{"docker run (hardened, gVisor)", gv})
	}
	if private {
		sides = append(sides,
			side{"sandbox run (private)", run("--network", "private", "--proxy-transport", "host")},
			side{"sandbox run (private, container)", run("--network", "private", "--proxy-transport", "container", "--proxy-image", proxyTag)})
		if gvisor {
			sides = append(sides, side{"sandbox run (private, gVisor)", run("--network", "private", "--type", "gvisor")})
		}
	}
	// One warm-up each, not measured: first runs pay for cold caches.
	for _, s := range sides {
		if _, err := timeRun(ctx, s.argv); err != nil {
			return err
		}
	}
	times := make([][]time.Duration, len(sides))
	for i := 0; i < n; i++ {
		for j, s := range sides {
			d, err := timeRun(ctx, s.argv)
			if err != nil {
				return err
			}
			times[j] = append(times[j], d)
		}
	}
	medians := map[string]time.Duration{}
	fmt.Printf("rounds: %d (interleaved), image %s, command: /toolbox echo hi\n", n, testimage.ToolboxTag)
	for j, s := range sides {
		medians[s.name] = median(times[j])
		fmt.Printf("%-32s median %7.1f ms  min %7.1f ms  max %7.1f ms\n", s.name, ms(median(times[j])), ms(slices.Min(times[j])), ms(slices.Max(times[j])))
	}
	ratio := func(label, a, b string) {
		if x, y := medians[a], medians[b]; x > 0 && y > 0 {
			fmt.Printf("%-32s %.3f (%+.0f ms)\n", label, float64(x)/float64(y), ms(x-y))
		}
	}
	ratio("ratio sandbox/docker:", "sandbox run", "docker run --rm")
	fmt.Println("  (goal ≤ 1.05, stretch ≤ 0.95)")
	for _, s := range sides {
		if strings.HasPrefix(s.name, "docker run --rm (") {
			ratio("gVisor/runc, docker run --rm:", s.name, "docker run --rm")
		}
	}
	ratio("gVisor/runc, sandbox run:", "sandbox run --type gvisor", "sandbox run")
	ratio("gVisor/runc, hardened docker:", "docker run (hardened, gVisor)", "docker run (hardened)")
	ratio("private/public, sandbox run:", "sandbox run (private)", "sandbox run")
	fmt.Println("  (host transport; goal ≤ 1.00)")
	ratio("private/docker run --rm:", "sandbox run (private)", "docker run --rm")
	fmt.Println("  (goal ≤ 0.95)")
	ratio("private container/public:", "sandbox run (private, container)", "sandbox run")
	fmt.Println("  (goal ≤ +400 ms)")
	ratio("gVisor/runc, private:", "sandbox run (private, gVisor)", "sandbox run (private)")
	return nil
}

type side struct {
	name string
	argv []string
}

// gvisorRuntime is the registered gVisor runtime --type gvisor takes for
// a public run; without one the bench fails, saying what to register.
func gvisorRuntime(ctx context.Context, c *client.Client) (string, error) {
	h, err := engine.New(c).Host(ctx)
	if err != nil {
		return "", err
	}
	r, err := gvisor.Pick(h.Runtimes, features.RuntimeNeed(spec.Public, false))
	if err != nil {
		return "", fmt.Errorf("%w (or pass -gvisor=false)", err)
	}
	return r.Name, nil
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

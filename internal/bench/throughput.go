package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"

	"github.com/org/sandbox-action/internal/testca"
	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

// The throughput benchmark downloads from a server of ours, a container on
// the default bridge, inside a sandbox: directly from a public sandbox, and
// from a private one through its forwarder and egress proxy, on each
// transport. Only the download is timed, inside the sandbox, so the cost
// of starting containers does not dilute the ratio.

// bulkHost is the server's name: the proxy maps it to the server's address
// (AddHosts), and its certificate names it.
const bulkHost = "bulk.sandbox-bench.test"

// throughputGoal is the issue's goal for proxied/direct throughput.
const throughputGoal = 0.9

type throughputConfig struct {
	rounds int
	size   int64
	// rate paces the server (bytes/s), as a link of that speed would;
	// zero sends as fast as the machine allows.
	rate    int64
	bin     string
	toolbox string
	proxy   string
	// compare is a second sandbox binary, measured on the host transport
	// beside the first: a change to the forwarder or the proxy, before
	// and after in the same rounds.
	compare string
	// gvisor adds HTTPS downloads in gVisor sandboxes, direct and through
	// the host transport.
	gvisor bool
	host   engine.Host
	// sides, when set, keeps only the downloads whose names it matches,
	// and the direct ones they are compared with.
	sides *regexp.Regexp
}

// download is one side of the comparison.
type download struct {
	name      string
	scheme    string
	transport string // "" for direct, from a public sandbox
	// bin is the host transport's sandbox binary; empty means cfg.bin.
	bin string
	// gvisor runs the sandbox under gVisor.
	gvisor bool
}

// direct is the name of the direct download d is compared with.
func (d download) direct() string {
	if d.gvisor {
		return d.scheme + " direct (public), gVisor"
	}
	return d.scheme + " direct (public)"
}

func throughput(ctx context.Context, c *client.Client, cfg throughputConfig) error {
	dir, err := os.MkdirTemp("", "sbxbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// The sandbox user must read the CA in the workspace, and the host
	// proxy (an unprivileged user) must reach its socket directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	ca, err := testca.New("sandbox-action bench CA")
	if err != nil {
		return err
	}
	caPEM := ca.PEM
	certPEM, keyPEM, err := ca.Issue(bulkHost)
	if err != nil {
		return err
	}
	ws, certs := filepath.Join(dir, "ws"), filepath.Join(dir, "certs")
	for _, d := range []string{ws, certs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	for name, data := range map[string][]byte{
		filepath.Join(ws, "ca.pem"): caPEM, filepath.Join(certs, "cert.pem"): certPEM, filepath.Join(certs, "key.pem"): keyPEM,
	} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return err
		}
	}
	ip, stop, err := startBulkServer(ctx, c, cfg.toolbox, certs)
	if err != nil {
		return err
	}
	defer stop()

	e := engine.New(c)
	sides := []download{
		{"https direct (public)", "https", "", "", false},
		{"https private, host", "https", spec.TransportHost, "", false},
		{"https private, container", "https", spec.TransportContainer, "", false},
		{"http direct (public)", "http", "", "", false},
		{"http CONNECT private, host", "http", spec.TransportHost, "", false},
		{"http CONNECT private, container", "http", spec.TransportContainer, "", false},
	}
	if cfg.compare != "" {
		sides = append(sides,
			download{"https private, host (compare)", "https", spec.TransportHost, cfg.compare, false},
			download{"http CONNECT private, host (compare)", "http", spec.TransportHost, cfg.compare, false})
	}
	if cfg.gvisor {
		sides = append(sides,
			download{"https direct (public), gVisor", "https", "", "", true},
			download{"https private, host, gVisor", "https", spec.TransportHost, "", true})
		if cfg.compare != "" {
			sides = append(sides, download{"https private, host, gVisor (compare)", "https", spec.TransportHost, cfg.compare, true})
		}
	}
	if cfg.sides != nil {
		keep := map[string]bool{}
		for _, d := range sides {
			if cfg.sides.MatchString(d.name) {
				keep[d.name], keep[d.direct()] = true, true
			}
		}
		sides = slices.DeleteFunc(sides, func(d download) bool { return !keep[d.name] })
		if len(sides) == 0 {
			return fmt.Errorf("-sides %q matches no download", cfg.sides)
		}
	}
	run := func(d download) (float64, error) {
		in, err := downloadInput(d, cfg, ws, dir, ip)
		if err != nil {
			return 0, err
		}
		p, err := plan.Build(in)
		if err != nil {
			return 0, err
		}
		var stdout, stderr bytes.Buffer
		res, err := e.Run(ctx, p.Run, engine.RunOptions{Stdout: &stdout, Stderr: &stderr})
		if err != nil {
			return 0, fmt.Errorf("%s: %w", d.name, err)
		}
		if res.ExitCode != 0 {
			return 0, fmt.Errorf("%s: exit %d\n%s%s", d.name, res.ExitCode, stdout.String(), stderr.String())
		}
		return parseDownload(stdout.String(), cfg.size)
	}
	load0 := loadAverage()
	// One warm-up each, not measured.
	for _, d := range sides {
		if _, err := run(d); err != nil {
			return err
		}
	}
	// rates[j][i] is side j's rate in round i.
	rates := make([][]float64, len(sides))
	for i := 0; i < cfg.rounds; i++ {
		// Rotate the order so that no side always follows the same one.
		for k := range sides {
			j := (i + k) % len(sides)
			r, err := run(sides[j])
			if err != nil {
				return err
			}
			rates[j] = append(rates[j], r)
		}
	}
	link := "unpaced (as fast as the machine allows)"
	if cfg.rate > 0 {
		link = fmt.Sprintf("paced to %d MB/s by the server, as a link of that speed", cfg.rate>>20)
	}
	fmt.Printf("\nthroughput: %d interleaved rounds, %d MB per download from a container on the default bridge, %s, timed inside the sandbox\n",
		cfg.rounds, cfg.size>>20, link)
	fmt.Printf("machine: %s, %d CPUs; load average %s at the start, %s at the end\n", cpuModel(), runtime.NumCPU(), load0, loadAverage())
	medians := map[string]float64{}
	for j, d := range sides {
		m := medianFloat(rates[j])
		medians[d.name] = m
		fmt.Printf("%-34s median %7.1f MB/s  min %7.1f  max %7.1f\n", d.name, m, slices.Min(rates[j]), slices.Max(rates[j]))
	}
	index := map[string]int{}
	for j, d := range sides {
		index[d.name] = j
	}
	// Each private download against the direct one of its own round too:
	// load that comes and goes falls on both of a pair.
	fmt.Printf("%-44s %-9s %s\n", "ratio to direct", "medians", "median of per-round ratios")
	for j, d := range sides {
		if d.transport == "" {
			continue
		}
		direct := d.direct()
		var paired []float64
		for i, r := range rates[j] {
			paired = append(paired, r/rates[index[direct]][i])
		}
		fmt.Printf("%-44s %-9.3f %.3f\n", d.name+":", medians[d.name]/medians[direct], medianFloat(paired))
	}
	fmt.Printf("goal: ≥ %.1f\n", throughputGoal)
	return nil
}

// downloadInput is the run of one download, as plan.Build gets it.
func downloadInput(d download, cfg throughputConfig, ws, dir, ip string) (plan.Input, error) {
	mode := spec.Public
	if d.transport != "" {
		mode = spec.Private
	}
	user := "1000:1000"
	settings := features.Settings{Image: &cfg.toolbox, User: &user, Network: &mode}
	if mode == spec.Private {
		settings.Allow = []string{bulkHost}
	}
	layer := features.Layer{Settings: settings}
	if d.gvisor {
		layer.Type = features.GVisorType
	}
	resolved, err := features.Resolve(features.Input{Flags: layer})
	if err != nil {
		return plan.Input{}, err
	}
	if err := resolved.Fit(features.Host{Runtimes: cfg.host.Runtimes, NCPU: cfg.host.NCPU}); err != nil {
		return plan.Input{}, err
	}
	port := map[string]string{"https": "443", "http": "80"}[d.scheme]
	via := ip + ":" + port
	if mode == spec.Private {
		via = "proxy"
	}
	cmd := []string{"/toolbox", "download", d.scheme + "://" + bulkHost + "/bytes/" + strconv.FormatInt(cfg.size, 10) + "?rate=" + strconv.FormatInt(cfg.rate, 10), via}
	if d.scheme == "https" {
		cmd = append(cmd, spec.WorkspaceDir+"/ca.pem")
	}
	id := plan.NewRunID()
	in := plan.Input{
		Resolved:  resolved,
		Workspace: ws,
		Command:   cmd,
		RunID:     id,
		Name:      "sbxbench-" + id,
		CreatedBy: "bench",
	}
	if mode == spec.Private {
		in.Egress = plan.Egress{Transport: d.transport}
		if d.transport == spec.TransportHost {
			in.Egress.Dir, in.Egress.Binary = dir, cmp.Or(d.bin, cfg.bin)
		}
		in.ProxyImage = cfg.proxy
		// The server is our own container on the default bridge, which the
		// proxy rightly refuses to reach outside tests and benchmarks.
		in.Proxy.TestAnyDestination = true
		in.Proxy.AddHosts = map[string]string{bulkHost: ip}
	}
	return in, nil
}

var downloadLine = regexp.MustCompile(`(?m)^bytes=(\d+) seconds=([0-9.]+)$`)

// parseDownload reads the toolbox's "bytes=N seconds=S" and returns MB/s.
func parseDownload(out string, size int64) (float64, error) {
	m := downloadLine.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no download line in %q", out)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	s, _ := strconv.ParseFloat(m[2], 64)
	if n != size || s <= 0 {
		return 0, fmt.Errorf("downloaded %d bytes in %gs, want %d", n, s, size)
	}
	return float64(n) / (1 << 20) / s, nil
}

// startBulkServer runs the toolbox's serve-bulk on the default bridge and
// returns its address there and a function that removes it.
func startBulkServer(ctx context.Context, c *client.Client, image, certs string) (string, func(), error) {
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: "sbxbench-bulk-" + plan.NewRunID(),
		Config: &container.Config{
			Image: image,
			Cmd:   []string{"/toolbox", "serve-bulk", ":443", ":80", "/certs/cert.pem", "/certs/key.pem"},
		},
		HostConfig: &container.HostConfig{
			Mounts: []mount.Mount{{Type: mount.TypeBind, Source: certs, Target: "/certs", ReadOnly: true}},
		},
	})
	if err != nil {
		return "", nil, err
	}
	stop := func() {
		_, _ = c.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	}
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		stop()
		return "", nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := logs(ctx, c, created.ID)
		if err == nil && strings.Contains(out, "listening") {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("bulk server not listening after 10s: %q %v", out, err)
		}
	}
	info, err := c.ContainerInspect(ctx, created.ID, client.ContainerInspectOptions{})
	if err != nil {
		stop()
		return "", nil, err
	}
	br := info.Container.NetworkSettings.Networks["bridge"]
	if br == nil || !br.IPAddress.IsValid() {
		stop()
		return "", nil, fmt.Errorf("bulk server has no address on the default bridge")
	}
	return br.IPAddress.String(), stop, nil
}

func logs(ctx context.Context, c *client.Client, id string) (string, error) {
	rc, err := c.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var buf bytes.Buffer
	_, err = stdcopy.StdCopy(&buf, &buf, rc)
	return buf.String(), err
}

func medianFloat(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// loadAverage is the 1, 5 and 15 minute load average: other work on the
// machine shows in absolute rates more than in ratios.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

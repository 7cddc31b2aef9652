package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/poll"

	"github.com/org/sandbox-action/internal/testca"
	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

// Private-mode tests never leave this daemon: the "outside world" is a
// container of ours on a network of ours (see newOutside), and that network
// is itself internal, so even a proxy that allowed everything could reach
// nothing beyond our own containers.

// proxyImageTag is the egress proxy image of the tests: the sandbox binary
// (whose `sandbox proxy` is the proxy) and the test CA.
const proxyImageTag = "sandbox-action-test/proxy:dev"

// proxyCAFile is where the proxy image holds the test CA.
const proxyCAFile = "/etc/ssl/test-ca.pem"

// proxyImage builds the proxy image once per test binary.
func proxyImage(t testing.TB) string {
	t.Helper()
	return testimage.Ensure(t, testimage.Spec{
		Tag:        proxyImageTag,
		Binaries:   map[string]string{"/usr/local/bin/sandbox": "./cmd/sandbox"},
		Files:      map[string][]byte{proxyCAFile: theTestCA().PEM},
		Entrypoint: []string{"/usr/local/bin/sandbox"},
	})
}

// theTestCA signs the outside model API's certificate. It is the same in
// every test process (testca.Fixed), so every process builds a
// byte-identical proxy image: two processes sharing the image tag cannot
// disagree about the CA it trusts. It is trusted nowhere but in the test
// images.
func theTestCA() *testca.CA {
	caOnce.Do(func() {
		var err error
		if ca, err = testca.Fixed("sandbox-action test CA"); err != nil {
			panic("test CA: " + err.Error())
		}
	})
	return ca
}

var (
	caOnce sync.Once
	ca     *testca.CA
)

// testLabels mark what the tests create, so that it can be found and removed.
var testLabels = map[string]string{spec.LabelTest: "1"}

// newOutsideNetwork creates a labelled internal network, removed when the
// test ends: the proxy's only "outside".
func newOutsideNetwork(t testing.TB, c *client.Client) string {
	t.Helper()
	name := "sbxtest-outside-" + randomID(t)
	_, err := c.NetworkCreate(context.Background(), name, client.NetworkCreateOptions{
		Driver: "bridge", Internal: true, Labels: testLabels,
	})
	assert.NilError(t, err)
	t.Cleanup(func() { _, _ = c.NetworkRemove(context.Background(), name, client.NetworkRemoveOptions{}) })
	return name
}

// outside is the world beyond the proxy: one server on its own network,
// playing an allowlisted host and the vendor's model API over TLS.
type outside struct {
	c       *client.Client
	network string
	// name is the server's name, the host the tests allowlist.
	name string
	// blocked is another name of the same server, not allowlisted: a
	// refusal to reach it is the allowlist's doing, not the network's.
	blocked string
	// ip is the server's address on network.
	ip string
	// bridgeIP is its address on the default bridge, where the proxy of
	// either transport reaches it by name (see hosts).
	bridgeIP string
	id       string
}

// hosts map the outside's names to its address for the proxy, which cannot
// resolve our containers' names.
func (o *outside) hosts() map[string]string {
	return map[string]string{o.name: o.bridgeIP, o.blocked: o.bridgeIP}
}

// outsidePort is where the outside server listens: the default HTTPS port,
// which the allowlist permits for a bare host name.
const outsidePort = 443

// newOutside starts the outside server and waits until it listens.
func newOutside(t *testing.T, c *client.Client) *outside {
	t.Helper()
	ctx := context.Background()
	o := &outside{c: c, network: newOutsideNetwork(t, c)}
	o.name = o.network + "-api"
	o.blocked = o.network + "-blocked"

	certPEM, keyPEM, err := theTestCA().Issue(o.name, o.blocked)
	assert.NilError(t, err)
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644))
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o644))

	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: o.name,
		Config: &container.Config{
			Image:  testimage.Toolbox(t),
			Cmd:    []string{"/toolbox", "serve-tls", ":" + strconv.Itoa(outsidePort), "/certs/cert.pem", "/certs/key.pem"},
			Labels: testLabels,
		},
		HostConfig: &container.HostConfig{
			NetworkMode: container.NetworkMode(o.network),
			Mounts:      []mount.Mount{{Type: mount.TypeBind, Source: dir, Target: "/certs", ReadOnly: true}},
		},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			o.network: {Aliases: []string{o.blocked}},
		}},
	})
	assert.NilError(t, err)
	o.id = created.ID
	t.Cleanup(func() {
		_, _ = c.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	})
	// Also on the default bridge, where a container transport's proxy is:
	// still only our own container.
	_, err = c.NetworkConnect(ctx, "bridge", client.NetworkConnectOptions{Container: created.ID})
	assert.NilError(t, err)
	_, err = c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{})
	assert.NilError(t, err)
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if strings.Contains(o.logs(t), "listening") {
			return poll.Success()
		}
		return poll.Continue("outside server not listening yet: %q", o.logs(t))
	}, poll.WithDelay(20*time.Millisecond), poll.WithTimeout(10*time.Second))

	info, err := c.ContainerInspect(ctx, created.ID, client.ContainerInspectOptions{})
	assert.NilError(t, err)
	ep := info.Container.NetworkSettings.Networks[o.network]
	assert.Assert(t, ep != nil && ep.IPAddress.IsValid(), "outside server has no address on %s", o.network)
	o.ip = ep.IPAddress.String()
	br := info.Container.NetworkSettings.Networks["bridge"]
	assert.Assert(t, br != nil && br.IPAddress.IsValid(), "outside server has no address on the default bridge")
	o.bridgeIP = br.IPAddress.String()
	return o
}

// addr is the server's address by IP.
func (o *outside) addr() string { return o.ip + ":" + strconv.Itoa(outsidePort) }

func (o *outside) logs(t *testing.T) string {
	t.Helper()
	out, err := containerOutput(o.c, o.id)
	assert.NilError(t, err)
	return out
}

// seenRequest is one request as the outside server received it.
type seenRequest struct {
	Method  string            `json:"method"`
	Host    string            `json:"host"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
}

// requests returns every request the outside server has received.
func (o *outside) requests(t *testing.T) []seenRequest {
	t.Helper()
	var reqs []seenRequest
	for _, line := range strings.Split(o.logs(t), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r seenRequest
		assert.NilError(t, json.Unmarshal([]byte(line), &r), "outside server log line %q", line)
		reqs = append(reqs, r)
	}
	return reqs
}

// containerOutput returns a container's stdout and stderr so far.
func containerOutput(c *client.Client, id string) (string, error) {
	rc, err := c.ContainerLogs(context.Background(), id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, rc); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// runOn runs the toolbox with args in a plain container on network, as any
// host with a route there would, and returns its output and exit code.
func runOn(t *testing.T, c *client.Client, network string, args ...string) (string, int) {
	t.Helper()
	ctx := context.Background()
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: "sbxtest-control-" + randomID(t),
		Config: &container.Config{
			Image: testimage.Toolbox(t), Cmd: append([]string{"/toolbox"}, args...), Labels: testLabels,
		},
		HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(network)},
	})
	assert.NilError(t, err)
	defer func() {
		_, _ = c.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	}()
	wait := c.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	_, err = c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{})
	assert.NilError(t, err)
	var code int
	select {
	case st := <-wait.Result:
		code = int(st.StatusCode)
	case err := <-wait.Error:
		t.Fatalf("wait for control container: %v", err)
	}
	out, err := containerOutput(c, created.ID)
	assert.NilError(t, err)
	return out, code
}

// transports are the places a run's egress proxy can run; private-mode
// tests run on each.
var transports = []string{spec.TransportHost, spec.TransportContainer}

// privateInput is a private-mode run of the toolbox as plan.Build gets it
// from the CLI or the action: settings resolved from flags, the proxy in
// transport, names and labels marking a test run. With o, the proxy
// reaches the outside's names.
func privateInput(t testing.TB, transport string, o *outside, settings features.Settings, command ...string) plan.Input {
	t.Helper()
	// A toolbox of our own tag: its probes are this tree's, whatever
	// another checkout builds under the shared toolbox tag meanwhile.
	img := egressToolbox(t)
	settings.Image = &img
	in := toolboxInput(t, spec.Private, settings, command...)
	in.ProxyImage = proxyImage(t)
	in.Egress = egressInput(t, transport)
	if o != nil {
		in.Proxy.AddHosts = o.hosts()
		// The outside is on Docker networks, which only a test may reach.
		in.Proxy.TestAnyDestination = true
	}
	return in
}

// egressToolboxTag is the toolbox image of the private-mode tests.
const egressToolboxTag = "sandbox-action-test/toolbox-egress:dev"

func egressToolbox(t testing.TB) string {
	t.Helper()
	return testimage.Ensure(t, testimage.ToolboxSpec(egressToolboxTag))
}

// egressInput places the proxy in transport, as the CLI would.
func egressInput(t testing.TB, transport string) plan.Egress {
	t.Helper()
	eg := plan.Egress{Transport: transport}
	if transport == spec.TransportHost {
		eg.Dir, eg.Binary = shortTempDir(t), hostBinary(t)
	}
	return eg
}

// shortTempDir is a temporary directory with a short path: a unix socket's
// path must fit in 108 bytes, which t.TempDir's long names can exceed.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sbxt")
	assert.NilError(t, err)
	assert.NilError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// hostBinary is the static sandbox binary the host transport runs as proxy
// and mounts as forwarder, built once per test binary into a directory
// TestMain removes.
func hostBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sbxtest-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "sandbox")
		binErr = testimage.CompileStatic(context.Background(), "./cmd/sandbox", binPath)
	})
	assert.NilError(t, binErr)
	return binPath
}

// toolboxInput is a run of the toolbox in mode.
func toolboxInput(t testing.TB, mode spec.NetworkMode, settings features.Settings, command ...string) plan.Input {
	t.Helper()
	img, user := testimage.Toolbox(t), "1000:1000"
	if settings.Image == nil {
		settings.Image = &img
	}
	settings.User, settings.Network = &user, &mode
	resolved, err := features.Resolve(features.Input{Flags: features.Layer{Settings: settings}})
	assert.NilError(t, err)
	ws := t.TempDir()
	// The sandbox user is not root, so it needs the right to write here.
	assert.NilError(t, os.Chmod(ws, 0o777))
	id := randomID(t)
	return plan.Input{
		Resolved:  resolved,
		Workspace: ws,
		Command:   command,
		RunID:     id,
		Name:      "sbxtest-" + id,
		CreatedBy: "test",
	}
}

// buildPrivate builds the plan and labels the containers (and so the
// volume) as a test's.
func buildPrivate(t testing.TB, in plan.Input) plan.Plan {
	t.Helper()
	p, err := plan.Build(in)
	assert.NilError(t, err)
	assert.Assert(t, p.Run.Transport() == in.Egress.Transport, "private plan without its proxy")
	p.Run.Sandbox.Labels = testLabels
	if p.Run.Proxy != nil {
		p.Run.Proxy.Labels = testLabels
	}
	return p
}

// batchArgs joins probes into one `toolbox batch` command line.
func batchArgs(probes ...[]string) []string {
	args := []string{"/toolbox", "batch"}
	for i, p := range probes {
		if i > 0 {
			args = append(args, "::")
		}
		args = append(args, p...)
	}
	return args
}

// probeResult is one probe's output and outcome in a batch.
type probeResult struct {
	out string
	// err is the probe's error message; empty when it succeeded.
	err string
	ran bool
}

var frame = regexp.MustCompile(`(?m)^### (\d+) (ok|error: .*)$`)

// parseBatch splits the output of `toolbox batch` with n probes.
func parseBatch(out string, n int) []probeResult {
	res := make([]probeResult, n)
	for _, m := range frame.FindAllStringSubmatchIndex(out, -1) {
		i, _ := strconv.Atoi(out[m[2]:m[3]])
		if i >= n {
			continue
		}
		header := "### " + strconv.Itoa(i) + " "
		start := strings.Index(out, header)
		body := out[start:m[0]]
		if nl := strings.IndexByte(body, '\n'); nl >= 0 {
			body = body[nl+1:]
		}
		res[i] = probeResult{out: strings.TrimSpace(body), ran: true}
		if status := out[m[4]:m[5]]; status != "ok" {
			res[i].err = strings.TrimPrefix(status, "error: ")
		}
	}
	return res
}

// envOf returns NAME's value in a "NAME=value" list.
func envOf(env []string, name string) (string, bool) {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// backgroundRun is a run in progress.
type backgroundRun struct {
	stop context.CancelFunc
	done chan runOutcome
}

type runOutcome struct {
	res Result
	err error
}

// startRun runs r until it ends or is cancelled.
func startRun(e *Engine, r spec.Run, o RunOptions) *backgroundRun {
	ctx, stop := context.WithCancel(context.Background())
	b := &backgroundRun{stop: stop, done: make(chan runOutcome, 1)}
	go func() {
		res, err := e.Run(ctx, r, o)
		b.done <- runOutcome{res, err}
	}()
	return b
}

// awaitOutput waits until w has seen its text, failing at once if the run
// ends first.
func (b *backgroundRun) awaitOutput(t *testing.T, w *lineWriter, d time.Duration) {
	t.Helper()
	select {
	case <-w.seen:
	case r := <-b.done:
		b.done <- r
		t.Fatalf("run ended (err %v, exit %d) before printing %q; output:\n%s", r.err, r.res.ExitCode, w.want, w)
	case <-time.After(d):
		b.stop()
		t.Fatalf("did not see %q within %s; output:\n%s", w.want, d, w)
	}
}

// cancel cancels the run and returns how it ended.
func (b *backgroundRun) cancel() (Result, error) {
	b.stop()
	r := <-b.done
	return r.res, r.err
}

// inspect inspects a container that must exist.
func inspect(t *testing.T, c *client.Client, name string) client.ContainerInspectResult {
	t.Helper()
	info, err := c.ContainerInspect(context.Background(), name, client.ContainerInspectOptions{})
	assert.NilError(t, err)
	return info
}

// waitForContainer waits until a container called name exists.
func waitForContainer(t *testing.T, c *client.Client, name string) {
	t.Helper()
	poll.WaitOn(t, func(poll.LogT) poll.Result {
		if _, err := c.ContainerInspect(context.Background(), name, client.ContainerInspectOptions{}); err != nil {
			return poll.Continue("%v", err)
		}
		return poll.Success()
	}, poll.WithDelay(10*time.Millisecond), poll.WithTimeout(20*time.Second))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	assert.NilError(t, err)
	return string(b)
}

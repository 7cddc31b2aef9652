package engine

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

// One private run of the claude plan, its command replaced by a batch of
// probes, is watched from every side, under runc and gVisor on each
// transport: from inside (the probes), by docker inspect while it runs,
// through the proxy's log and counts, through what the outside model API
// received, and by what is left after it is cancelled.
func TestPrivateSandboxReachesOnlyTheAllowlistAndNeverHoldsTheKey(t *testing.T) {
	e, c := newTestEngine(t)
	o := newOutside(t, c)
	// Host services a sandbox must not reach, whatever the firewall: a
	// listener on the default bridge's gateway address and one on each of
	// the host's own addresses (the hole of the first private mode).
	hostServices := hostListeners(t)

	// Control: from a container with a route to the outside, the same probes
	// that must fail in the sandbox succeed.
	out, code := runOn(t, c, o.network, batchArgs([]string{"dial", o.addr()}, []string{"lookup", o.name})[1:]...)
	assert.Equal(t, code, 0, out)
	for i, r := range parseBatch(out, 2) {
		assert.Assert(t, r.ran && r.err == "", "control probe %d failed: %s", i, out)
	}
	// Control: a plain container on the default bridge reaches the host's
	// services on the bridge's gateway address.
	out, code = runOn(t, c, "bridge", "dial", hostServices[0])
	assert.Equal(t, code, 0, "the control container cannot reach %s: %s", hostServices[0], out)

	eachPrivateRun(t, e, transports, func(t *testing.T, iso isolation, transport string) {
		privateRunSeenFromEverySide(t, e, c, o, iso, transport, hostServices)
	})
}

func privateRunSeenFromEverySide(t *testing.T, e *Engine, c *client.Client, o *outside, iso isolation, transport string, hostServices []string) {
	realKey := "sk-ant-real-" + randomID(t)
	githubToken := "ghs_" + randomID(t)
	const wrongToken = "sbx-not-the-session-token"

	in := privateInput(t, transport, o, features.Settings{Allow: []string{o.name}})
	// The sandbox trusts the test CA for HTTPS through the proxy.
	assert.NilError(t, os.WriteFile(filepath.Join(in.Workspace, "test-ca.pem"), theTestCA().PEM, 0o644))
	in.Env = []spec.EnvVar{{Name: "SSL_CERT_FILE", Value: spec.WorkspaceDir + "/test-ca.pem"}}
	claude, err := agent.Get("claude")
	assert.NilError(t, err)
	in.Agent = &plan.Agent{Adapter: claude, Request: agent.Request{Prompt: "probe"}}
	in.Getenv = func(name string) string {
		return map[string]string{"ANTHROPIC_API_KEY": realKey, "GITHUB_TOKEN": githubToken}[name]
	}
	// The gateway's upstream is our outside server, never the real API.
	in.Proxy.Upstreams = map[egress.Vendor]string{egress.Anthropic: "https://" + o.name}
	in.Proxy.CAFile = proxyCAFile
	// It sits on a Docker network, which the proxy refuses to connect to
	// unless told it is a test.
	in.Proxy.TestAnyDestination = true
	if transport == spec.TransportHost {
		// The host proxy runs as nobody: the file must be readable to all.
		caFile := filepath.Join(shortTempDir(t), "ca.pem")
		assert.NilError(t, os.WriteFile(caFile, theTestCA().PEM, 0o644))
		in.Proxy.CAFile = caFile
	}
	p := buildPrivate(t, in)
	iso.apply(t, &p.Run.Sandbox)

	// The same escapes fail under gVisor with its kernel's own errors: see
	// unreachable, and gVisor checks file permissions before the read-only
	// mount (see TestSandboxIsHardenedFromInside).
	unreachable, readOnly := iso.unreachable(), "read-only file system"
	if iso.gVisor() {
		readOnly = "permission denied"
	}
	// The probes meet the host's kernel under runc and gVisor's under
	// gVisor, which reports a fixed Linux 4.4.0.
	kernel := hostKernel(t)
	if iso.gVisor() {
		kernel = "Linux version 4.4.0"
	}
	type probe struct {
		name string
		args []string
		ok   bool
		want []string
	}
	probes := []probe{
		{"direct connect to the outside by address fails", []string{"dial", o.addr()}, false, []string{unreachable}},
		{"direct connect to the outside's bridge address fails", []string{"dial", o.bridgeIP + ":443"}, false, []string{unreachable}},
		{"DNS fails within 100 ms", []string{"lookup-fails-within", o.name, "100ms"}, true, nil},
		{"CONNECT to a host not allowlisted is refused", []string{"proxy-connect", o.blocked + ":443"}, false, []string{"403 Forbidden", "host " + o.blocked + " is not in the allowlist"}},
		{"CONNECT to an IP literal is refused", []string{"proxy-connect", o.addr()}, false, []string{"403 Forbidden", "IP address " + o.ip + " is not in the allowlist"}},
		{"CONNECT to another port of an allowed host is refused", []string{"proxy-connect", o.name + ":8443"}, false, []string{"403 Forbidden"}},
		{"HTTPS to the allowlisted host through the proxy works", []string{"fetch", "https://" + o.name + "/via-proxy"}, true, []string{"200 OK", `{"ok":true}`}},
		{"the gateway forwards a request carrying the session token", []string{"fetch-env", "POST $ANTHROPIC_BASE_URL/v1/messages", "x-api-key: $ANTHROPIC_API_KEY"}, true, []string{"200 OK", `{"ok":true}`}},
		{"the gateway refuses a wrong session token", []string{"fetch-env", "POST $ANTHROPIC_BASE_URL/v1/messages", "x-api-key: " + wrongToken}, false, []string{"401 Unauthorized", "wrong session token"}},
		{"the socket directory is read-only", []string{"write", spec.SocketDir + "/planted.sock"}, false, []string{readOnly}},
		{"not root", []string{"id"}, true, []string{"1000:1000"}},
		{"no capabilities", []string{"caps"}, true, []string{"0000000000000000"}},
		{"root filesystem is read-only", []string{"write", "/probe"}, false, []string{readOnly}},
		{"the kernel is the isolation's", []string{"cat", "/proc/version"}, true, []string{kernel}},
		{"environment", []string{"env"}, true, []string{"SANDBOX_PRIVATE_MODE=true", "HTTPS_PROXY=http://127.0.0.1:3128"}},
	}
	for _, addr := range hostServices {
		probes = append(probes, probe{"the host service at " + addr + " is unreachable", []string{"dial", addr}, false, []string{unreachable}})
	}
	probes = append(probes, probe{"stays up to be inspected", []string{"trap"}, true, []string{"ready"}})
	var argv [][]string
	for _, pr := range probes {
		argv = append(argv, pr.args)
	}
	p.Run.Sandbox.Command = batchArgs(argv...)

	stdout, stderr := newLineWriter("\nready\n"), newLineWriter("")
	run := startRun(e, p.Run, RunOptions{Stdout: stdout, Stderr: stderr})
	run.awaitOutput(t, stdout, 60*time.Second)
	sandbox := inspect(t, c, p.Run.Sandbox.Name)
	var proxy client.ContainerInspectResult
	if p.Run.Proxy != nil {
		proxy = inspect(t, c, p.Run.Proxy.Name)
	}
	t.Run("another container on the default bridge cannot use the run's proxy", func(t *testing.T) {
		target := "172.17.0.1:3128"
		if p.Run.Proxy != nil {
			target = proxy.Container.NetworkSettings.Networks["bridge"].IPAddress.String() + ":3128"
		}
		// The proxy serves only the run's sockets: no TCP port anywhere.
		out, code := runOn(t, c, "bridge", "dial", target)
		assert.Check(t, code != 0, "a bridge container used the proxy at %s: %s", target, out)
	})
	res, err := run.cancel()
	assert.NilError(t, err)
	assert.Check(t, res.Cancelled)

	t.Run("nothing is left after the cancel", func(t *testing.T) {
		assertNothingLeft(t, c, p.Run.Sandbox.RunID)
		assertNoSocketDir(t, p.Run)
	})

	results := parseBatch(stdout.String(), len(probes))
	for i, pr := range probes {
		t.Run(pr.name, func(t *testing.T) {
			r := results[i]
			assert.Assert(t, r.ran, "probe did not run; output:\n%s", stdout)
			if pr.ok {
				assert.Check(t, r.err == "", "probe failed: %s\n%s", r.err, r.out)
			} else {
				assert.Check(t, r.err != "", "probe succeeded: %s", r.out)
			}
			for _, w := range pr.want {
				assert.Check(t, is.Contains(r.out+"\n"+r.err, w))
			}
		})
	}

	token, _ := envOf(sandbox.Container.Config.Env, "ANTHROPIC_API_KEY")
	t.Run("the sandbox holds the session token, not the key", func(t *testing.T) {
		assert.Assert(t, token != "" && token != realKey, "sandbox credential: %q", token)
		base, _ := envOf(sandbox.Container.Config.Env, "ANTHROPIC_BASE_URL")
		assert.Check(t, is.Equal(base, "http://127.0.0.1:8080/anthropic"))
		assert.Check(t, is.Contains(stdout.String(), "ANTHROPIC_API_KEY="+token), "the env probe did not see the token")
		for what, s := range map[string]string{
			"inspect": string(sandbox.Raw),
			"env":     strings.Join(sandbox.Container.Config.Env, "\n"),
			"cmd":     strings.Join(sandbox.Container.Config.Cmd, "\n"),
			"labels":  mustJSON(t, sandbox.Container.Config.Labels),
			"mounts":  mustJSON(t, sandbox.Container.Mounts),
			"output":  stdout.String() + stderr.String(),
		} {
			assert.Check(t, !strings.Contains(s, realKey), "the real key is in the sandbox's %s", what)
			assert.Check(t, !strings.Contains(s, githubToken), "the GitHub token is in the sandbox's %s", what)
		}
	})
	if p.Run.Proxy != nil {
		t.Run("only the proxy holds the key, and nothing holds the GitHub token", func(t *testing.T) {
			env := strings.Join(proxy.Container.Config.Env, "\n")
			assert.Check(t, is.Contains(env, "ANTHROPIC_API_KEY="+realKey))
			assert.Check(t, is.Contains(env, egress.TokenEnv+"="+token))
			assert.Check(t, !strings.Contains(string(proxy.Raw), githubToken))
		})
	}
	t.Run("the model API saw the real key and never a token", func(t *testing.T) {
		var api, viaProxy []seenRequest
		for _, r := range o.requests(t) {
			if !strings.Contains(r.Headers["X-Api-Key"], realKey) && r.Path == "/v1/messages" {
				continue // another transport's run
			}
			raw := mustJSON(t, r)
			assert.Check(t, !strings.Contains(raw, token), "the session token reached the model API: %s", raw)
			assert.Check(t, !strings.Contains(raw, wrongToken), "a refused request reached the model API: %s", raw)
			switch r.Path {
			case "/v1/messages":
				api = append(api, r)
			case "/via-proxy":
				viaProxy = append(viaProxy, r)
			}
		}
		assert.Assert(t, is.Len(api, 1), "requests to the model API: %+v", api)
		assert.Check(t, is.Equal(api[0].Headers["X-Api-Key"], realKey))
		assert.Assert(t, len(viaProxy) >= 1)
		assert.Check(t, is.Equal(viaProxy[0].Host, o.name))
		assert.Check(t, is.Equal(viaProxy[0].Headers["X-Api-Key"], ""))
	})
	t.Run("the proxy logged and counted every decision", func(t *testing.T) {
		var stats egress.Stats
		assert.NilError(t, json.Unmarshal(res.Egress, &stats), "egress stats %q", res.Egress)
		for host, want := range map[string]egress.Count{
			o.blocked: {Denied: 1},
			o.ip:      {Denied: 1},
			o.name:    {Allowed: 1, Denied: 1},
		} {
			got := stats.Proxy.Hosts[host]
			assert.Check(t, got.Allowed == want.Allowed && got.Denied == want.Denied, "proxy %s: %+v, want %+v", host, got, want)
		}
		gw := stats.Gateway.Hosts[string(egress.Anthropic)]
		assert.Check(t, gw.Allowed == 1 && gw.Denied == 1, "gateway anthropic: %+v", gw)

		denied := proxyLogDecisions(t, res.ProxyLog, "deny")
		assert.Check(t, is.Contains(denied, "proxy CONNECT "+o.blocked+" 403"))
		assert.Check(t, is.Contains(denied, "proxy CONNECT "+o.ip+" 403"))
		assert.Check(t, is.Contains(denied, "gateway POST anthropic 401"))
	})
	t.Run("hardened, with no network, by inspect", func(t *testing.T) {
		sc := sandbox.Container
		checkHardened(t, sc, "1000:1000")
		assert.Check(t, is.Equal(string(sc.HostConfig.NetworkMode), "none"))
		assert.Check(t, is.Len(sc.NetworkSettings.Networks, 1), "sandbox networks: %v", sc.NetworkSettings.Networks)
		for _, m := range sc.Mounts {
			if m.Destination != spec.WorkspaceDir {
				assert.Check(t, !m.RW, "%s is mounted writable", m.Destination)
			}
		}
		assert.Check(t, is.Equal(sc.Config.Labels[spec.LabelTransport], transport))
		assert.Check(t, is.Equal(sc.HostConfig.Runtime, iso.inspected()))
		if p.Run.Proxy != nil {
			checkHardened(t, proxy.Container, plan.Nobody)
			assert.Check(t, is.Equal(string(proxy.Container.HostConfig.NetworkMode), "default"))
		}
	})
}

// hostKernel is the start of this host's /proc/version, which a runc
// container shares: "Linux version <release>".
func hostKernel(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/version")
	assert.NilError(t, err)
	f := strings.Fields(string(data))
	assert.Assert(t, len(f) >= 3, "/proc/version: %q", data)
	return strings.Join(f[:3], " ")
}

// hostListeners listens on the default bridge's gateway address and on the
// host's other addresses (not loopback), answering nothing, and returns
// their addresses.
func hostListeners(t *testing.T) []string {
	t.Helper()
	ips := []string{"172.17.0.1"}
	addrs, err := net.InterfaceAddrs()
	assert.NilError(t, err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && n.IP.String() != ips[0] {
			ips = append(ips, n.IP.String())
		}
	}
	var out []string
	for _, ip := range ips {
		ln, err := net.Listen("tcp", ip+":0")
		assert.NilError(t, err)
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		out = append(out, ln.Addr().String())
	}
	return out
}

// assertNoSocketDir fails when a host transport's socket directory remains.
func assertNoSocketDir(t *testing.T, r spec.Run) {
	t.Helper()
	if r.HostProxy == nil {
		return
	}
	_, err := os.Stat(r.HostProxy.Dir)
	assert.Check(t, os.IsNotExist(err), "socket directory %s left behind (%v)", r.HostProxy.Dir, err)
}

// A run that exits, times out or is cancelled while its proxy starts leaves
// no container, volume or socket directory behind, under runc and gVisor on
// either transport.
func TestPrivateRunLeavesNothingBehind(t *testing.T) {
	e, c := newTestEngine(t)
	eachPrivateRun(t, e, transports, func(t *testing.T, iso isolation, transport string) {
		build := func(t *testing.T, settings features.Settings, command ...string) plan.Plan {
			p := buildPrivate(t, privateInput(t, transport, nil, settings, command...))
			iso.apply(t, &p.Run.Sandbox)
			return p
		}
		t.Run("exit", func(t *testing.T) {
			t.Parallel()
			p := build(t, features.Settings{}, "/toolbox", "exit", "3")
			res, err := e.Run(context.Background(), p.Run, RunOptions{})
			assert.NilError(t, err)
			assert.Check(t, is.Equal(res.ExitCode, 3))
			var stats egress.Stats
			assert.Check(t, json.Unmarshal(res.Egress, &stats), "egress stats %q", res.Egress)
			assertNothingLeft(t, c, p.Run.Sandbox.RunID)
			assertNoSocketDir(t, p.Run)
		})
		t.Run("timeout", func(t *testing.T) {
			t.Parallel()
			timeout := time.Second
			p := build(t, features.Settings{Timeout: &timeout}, "/toolbox", "sleep", "60s")
			res, err := e.Run(context.Background(), p.Run, RunOptions{})
			assert.NilError(t, err)
			assert.Check(t, res.TimedOut)
			assertNothingLeft(t, c, p.Run.Sandbox.RunID)
			assertNoSocketDir(t, p.Run)
		})
		t.Run("cancel while starting", func(t *testing.T) {
			t.Parallel()
			p := build(t, features.Settings{}, "/toolbox", "sleep", "60s")
			run := startRun(e, p.Run, RunOptions{})
			// Cancel as soon as the first container exists: the sandbox is
			// not running yet.
			first := p.Run.Sandbox.Name
			if p.Run.Proxy != nil {
				first = p.Run.Proxy.Name
			}
			waitForContainer(t, c, first)
			_, err := run.cancel()
			assert.Check(t, err == nil || strings.Contains(err.Error(), "cancel"), "run: %v", err)
			assertNothingLeft(t, c, p.Run.Sandbox.RunID)
			assertNoSocketDir(t, p.Run)
		})
	})
}

// A proxy that is gone when the sandbox starts leaves it no way out: the
// forwarder refuses to start the command, exits 125 and says why, under
// runc and gVisor.
func TestForwarderRefusesToStartWithoutItsProxy(t *testing.T) {
	e, c := newTestEngine(t)
	eachPrivateRun(t, e, []string{spec.TransportHost}, func(t *testing.T, iso isolation, _ string) {
		forwarderRefusesToStartWithoutItsProxy(t, e, c, iso)
	})
}

func forwarderRefusesToStartWithoutItsProxy(t *testing.T, e *Engine, c *client.Client, iso isolation) {
	p := buildPrivate(t, privateInput(t, spec.TransportHost, nil, features.Settings{}, "/toolbox", "echo", "should not run"))
	iso.apply(t, &p.Run.Sandbox)
	// A proxy that exits at once, before serving a connection.
	p.Run.HostProxy.Binary = "/bin/false"
	stdout, stderr := newLineWriter(""), newLineWriter("")
	res, err := e.Run(context.Background(), p.Run, RunOptions{Stdout: stdout, Stderr: stderr})
	if err != nil {
		// The engine saw the proxy exit before it started the sandbox.
		assert.Check(t, is.ErrorContains(err, "egress proxy exited"))
	} else {
		// The forwarder found nobody serving the socket.
		assert.Check(t, is.Equal(res.ExitCode, 125))
		assert.Check(t, is.Contains(stderr.String(), "does not answer"))
	}
	assert.Check(t, !strings.Contains(stdout.String(), "should not run"))
	assertNothingLeft(t, c, p.Run.Sandbox.RunID)
	assertNoSocketDir(t, p.Run)
}

// proxyLogDecisions returns the proxy log's decisions of one kind, one per
// line as "component METHOD host status".
func proxyLogDecisions(t *testing.T, log, decision string) string {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(log, "\n") {
		var e struct {
			Msg       string `json:"msg"`
			Component string `json:"component"`
			Method    string `json:"method"`
			Host      string `json:"host"`
			Decision  string `json:"decision"`
			Status    int    `json:"status"`
		}
		if json.Unmarshal([]byte(line), &e) != nil || e.Msg != "egress" || e.Decision != decision {
			continue
		}
		b.WriteString(strings.Join([]string{e.Component, e.Method, e.Host, strconv.Itoa(e.Status)}, " ") + "\n")
	}
	return b.String()
}

// A runner killed with SIGKILL cleans nothing up: its volume, proxy and
// sandbox stay until `sandbox gc` finds them by label, under runc and
// gVisor. The run happens in a child process (see TestMain) using the
// default lock directory, as `sandbox run` and `sandbox gc` do.
func TestGCRemovesWhatAKilledPrivateRunLeft(t *testing.T) {
	c := testimage.NewClient(t)
	e := New(c)
	eachPrivateRun(t, e, []string{spec.TransportContainer}, func(t *testing.T, iso isolation, _ string) {
		gcRemovesWhatAKilledPrivateRunLeft(t, e, c, iso)
	})
}

func gcRemovesWhatAKilledPrivateRunLeft(t *testing.T, e *Engine, c *client.Client, iso isolation) {
	p := buildPrivate(t, privateInput(t, spec.TransportContainer, nil, features.Settings{}, "/toolbox", "trap"))
	iso.apply(t, &p.Run.Sandbox)
	runID := p.Run.Sandbox.RunID
	t.Cleanup(func() { _ = e.removeRun(runID) })

	file := filepath.Join(t.TempDir(), "run.json")
	assert.NilError(t, os.WriteFile(file, []byte(mustJSON(t, p.Run)), 0o600))
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childRunEnv+"="+file)
	stdout := newLineWriter("ready\n")
	var stderr lineWriter
	child.Stdout, child.Stderr = stdout, &stderr
	assert.NilError(t, child.Start())
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	select {
	case <-stdout.seen:
	case err := <-exited:
		t.Fatalf("child run ended before its sandbox was up: %v\n%s%s", err, stdout, &stderr)
	case <-time.After(30 * time.Second):
		_ = child.Process.Kill()
		t.Fatalf("child run's sandbox not up after 30s:\n%s%s", stdout, &stderr)
	}
	assert.NilError(t, child.Process.Kill())
	<-exited

	left, err := e.List(context.Background())
	assert.NilError(t, err)
	var kinds []string
	for _, o := range left {
		if o.RunID == runID {
			kinds = append(kinds, o.Kind+" "+o.Name)
		}
	}
	slices.Sort(kinds)
	assert.DeepEqual(t, kinds, []string{
		"container " + p.Run.Sandbox.Name,
		"container " + p.Run.Proxy.Name,
		"volume " + p.Run.Sandbox.Egress.Source,
	})

	removed, err := e.GC(context.Background(), GCOptions{RunID: runID})
	assert.NilError(t, err)
	assert.Check(t, hasRun(removed, runID), "gc removed %+v", removed)
	assertNothingLeft(t, c, runID)
}

// Docker makes the volume a container's mount names when it does not exist
// yet: a pasted docker run line without its docker volume create, a
// container created before the run's volume. Such a volume is still the
// run's, found by its label and removed with the run; one that an older
// version left without labels is found by its name.
func TestRunVolumeMadeByDockerIsRemovedWithTheRun(t *testing.T) {
	e, c := newTestEngine(t)
	ctx := context.Background()
	removeVolume := func(t *testing.T, name string) {
		t.Cleanup(func() { _, _ = c.VolumeRemove(context.Background(), name, client.VolumeRemoveOptions{Force: true}) })
	}
	volumeGone := func(t *testing.T, name string) {
		t.Helper()
		_, err := c.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
		assert.Check(t, cerrdefs.IsNotFound(err), "volume %s left behind (%v)", name, err)
	}

	for _, tc := range []struct {
		name string
		spec func(p plan.Plan) spec.RunSpec
	}{
		{"for the sandbox", func(p plan.Plan) spec.RunSpec { return p.Run.Sandbox }},
		{"for the proxy", func(p plan.Plan) spec.RunSpec { return *p.Run.Proxy }},
	} {
		t.Run("made "+tc.name+" and removed by a cancelled run's cleanup", func(t *testing.T) {
			p := buildPrivate(t, privateInput(t, spec.TransportContainer, nil, features.Settings{}, "/toolbox", "echo"))
			vol := p.Run.Sandbox.Egress.Source
			removeVolume(t, vol)
			s := tc.spec(p)
			cfg, hc, nc := s.EngineConfig()
			_, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: hc, NetworkingConfig: nc, Name: s.Name})
			assert.NilError(t, err)
			v, err := c.VolumeInspect(ctx, vol, client.VolumeInspectOptions{})
			assert.NilError(t, err, "docker made no volume for the mount")
			assert.Check(t, is.Equal(v.Volume.Labels[spec.LabelRunID], s.RunID), "labels %v", v.Volume.Labels)

			assert.NilError(t, e.removeRun(s.RunID))
			assertNothingLeft(t, c, s.RunID)
			volumeGone(t, vol)
		})
	}

	t.Run("left without labels and removed by gc", func(t *testing.T) {
		runID := randomID(t)
		vol := spec.VolumeName("sandbox-" + runID)
		removeVolume(t, vol)
		_, err := c.VolumeCreate(ctx, client.VolumeCreateOptions{Name: vol})
		assert.NilError(t, err)
		removed, err := e.GC(ctx, GCOptions{RunID: runID})
		assert.NilError(t, err)
		assert.Check(t, hasRun(removed, runID), "gc removed %+v", removed)
		volumeGone(t, vol)

		// A volume of the name gc guesses that another run's label claims
		// is not touched.
		runID = randomID(t)
		vol = spec.VolumeName("sandbox-" + runID)
		removeVolume(t, vol)
		_, err = c.VolumeCreate(ctx, client.VolumeCreateOptions{Name: vol, Labels: map[string]string{spec.LabelRunID: randomID(t)}})
		assert.NilError(t, err)
		removed, err = e.GC(ctx, GCOptions{RunID: runID})
		assert.NilError(t, err)
		assert.Check(t, is.Len(removed, 0), "gc removed %+v", removed)
		_, err = c.VolumeInspect(ctx, vol, client.VolumeInspectOptions{})
		assert.Check(t, err, "gc removed another run's volume")
	})
}

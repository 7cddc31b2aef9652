package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/spec"
)

const realKey = "sk-real-key-0123456789"

func resolve(t *testing.T, network spec.NetworkMode) features.Resolved {
	t.Helper()
	image := "agents:1"
	r, err := features.Resolve(features.Input{Flags: features.Layer{Settings: features.Settings{Image: &image, Network: &network}}})
	assert.NilError(t, err)
	return r
}

func agentInput(t *testing.T, name string, network spec.NetworkMode) Input {
	t.Helper()
	a, err := agent.Get(name)
	assert.NilError(t, err)
	env := map[string]string{"ANTHROPIC_API_KEY": realKey, "CODEX_API_KEY": realKey, "GITHUB_TOKEN": "ghs_secret"}
	return Input{
		Resolved:  resolve(t, network),
		Workspace: "/home/dev/project",
		Owner:     "1000:1000",
		Agent:     &Agent{Adapter: a, Request: agent.Request{Prompt: "review"}},
		CreatedBy: "test",
		Getenv:    func(k string) string { return env[k] },
		Egress:    hostEgress,
	}
}

func env(s spec.RunSpec, name string) (spec.EnvVar, bool) {
	i := slices.IndexFunc(s.Env, func(e spec.EnvVar) bool { return e.Name == name })
	if i < 0 {
		return spec.EnvVar{}, false
	}
	return s.Env[i], true
}

// hostEgress is the host transport as the CLI gives it.
var hostEgress = Egress{Transport: spec.TransportHost, Dir: "/tmp", Binary: "/usr/local/bin/sandbox"}

// onHost is an EgressFunc that places the proxy as hostEgress says, as the
// CLI does for a local daemon.
func onHost(context.Context, Settings) (Egress, error) { return hostEgress, nil }

// proxyEnvOf is the environment of the run's proxy, in either transport.
func proxyEnvOf(r spec.Run) spec.RunSpec {
	if r.HostProxy != nil {
		return spec.RunSpec{Env: r.HostProxy.Env}
	}
	return *r.Proxy
}

func TestPublicAgentKeyStaysWithTheGateway(t *testing.T) {
	p, err := Build(agentInput(t, "claude", spec.Public))
	assert.NilError(t, err)
	s := p.Run.Sandbox
	assert.Check(t, is.Equal(s.Network.Mode, spec.Public))
	assert.Assert(t, s.Egress != nil && p.Run.HostProxy != nil)
	assert.Check(t, s.Egress.Gateway && !s.Egress.Proxy, "a public sandbox uses the gateway only")
	cred, ok := env(s, "ANTHROPIC_API_KEY")
	assert.Assert(t, ok)
	assert.Check(t, cred.Value != realKey && cred.Secret && cred.Token == egress.TokenEnv)
	base, _ := env(s, "ANTHROPIC_BASE_URL")
	assert.Check(t, is.Equal(base.Value, "http://127.0.0.1:8080/anthropic"))
	key, _ := env(proxyEnvOf(p.Run), "ANTHROPIC_API_KEY")
	assert.Check(t, key.Secret && key.Value == realKey)
	assert.Check(t, is.DeepEqual(p.Run.HostProxy.Args, []string{"proxy"}), "a public run's proxy allows nothing")
	v, _ := env(s, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC")
	assert.Check(t, is.Equal(v.Value, "1"))
	assert.Check(t, is.Equal(s.Command[0], "claude"))
	assert.Check(t, is.Equal(s.User, "1000:1000"))
	_, leaked := env(s, "GITHUB_TOKEN")
	assert.Check(t, !leaked)
}

func TestPublicCommandHasNoEgress(t *testing.T) {
	in := agentInput(t, "claude", spec.Public)
	in.Agent, in.Command = nil, []string{"make"}
	p, err := Build(in)
	assert.NilError(t, err)
	assert.Check(t, p.Run.Sandbox.Egress == nil && p.Run.Transport() == "")
}

func TestPrivateAgentKeyStaysInTheProxy(t *testing.T) {
	for _, transport := range []string{spec.TransportHost, spec.TransportContainer} {
		t.Run(transport, func(t *testing.T) {
			in := agentInput(t, "claude", spec.Private)
			in.Egress.Transport = transport
			// An explicit request for the key must not put it in the sandbox.
			in.Env = []spec.EnvVar{{Name: "ANTHROPIC_API_KEY", Value: realKey, Secret: true}}
			p, err := Build(in)
			assert.NilError(t, err)
			s := p.Run.Sandbox
			assert.Check(t, is.Equal(p.Run.Transport(), transport))
			assert.Assert(t, s.Egress != nil && s.Egress.Proxy && s.Egress.Gateway)

			cred, ok := env(s, "ANTHROPIC_API_KEY")
			assert.Assert(t, ok)
			assert.Check(t, cred.Value != realKey, "the sandbox holds the real key")
			assert.Check(t, is.Nil(egress.ValidateSessionToken(cred.Value)))
			assert.Check(t, cred.Secret && cred.Token == egress.TokenEnv)
			base, _ := env(s, "ANTHROPIC_BASE_URL")
			assert.Check(t, is.Equal(base.Value, "http://127.0.0.1:8080/anthropic"))

			px := proxyEnvOf(p.Run)
			key, _ := env(px, "ANTHROPIC_API_KEY")
			assert.Check(t, key.Secret && key.Value == realKey)
			token, _ := env(px, egress.TokenEnv)
			assert.Check(t, token.Secret && token.Value == cred.Value)
			assert.Check(t, is.Len(px.Env, 2), "the proxy gets its key and token, nothing else")
			for _, e := range s.Env {
				assert.Check(t, e.Value != realKey && !strings.Contains(e.Value, "ghs_"), "sandbox env %s", e.Name)
			}
		})
	}
}

func TestHostTransport(t *testing.T) {
	in := agentInput(t, "claude", spec.Private)
	in.RunID = "abc123"
	in.Egress.Dir, in.Egress.HostDir = "/github/home", "/home/runner/work/_temp/_github_home"
	p, err := Build(in)
	assert.NilError(t, err)
	h, e := p.Run.HostProxy, p.Run.Sandbox.Egress
	assert.Check(t, is.Equal(h.Dir, "/github/home/sandbox-abc123"))
	assert.Check(t, is.Equal(e.Source, "/home/runner/work/_temp/_github_home/sandbox-abc123"), "the daemon mounts the host's path")
	assert.Check(t, is.Equal(e.Forwarder, "/usr/local/bin/sandbox"))
	assert.Check(t, is.DeepEqual(h.ProxyArgs("fd:3", "fd:4"), []string{"proxy", "--listen", "fd:3", "--gateway-listen", "fd:4", "--allow", "api.anthropic.com"}))

	in.Egress.CopyForwarder = true
	p, err = Build(in)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(p.Run.Sandbox.Egress.Forwarder, ""), "a copied forwarder lives in the socket directory")
}

func TestContainerTransport(t *testing.T) {
	in := agentInput(t, "claude", spec.Private)
	in.Egress.Transport = spec.TransportContainer
	p, err := Build(in)
	assert.NilError(t, err)
	s, px := p.Run.Sandbox, p.Run.Proxy
	assert.Check(t, s.Egress.Volume && px.Egress.Volume && s.Egress.Source == px.Egress.Source)
	assert.Check(t, is.DeepEqual(px.Command, []string{"proxy", "--listen", "unix:/run/sandbox/proxy.sock", "--copy-forwarder", "/run/sandbox/forward",
		"--gateway-listen", "unix:/run/sandbox/gateway.sock", "--allow", "api.anthropic.com"}))
	assert.Check(t, is.Equal(px.User, Nobody))
	assert.Check(t, is.Equal(px.Role, spec.RoleProxy))
	assert.Check(t, is.Equal(px.Network.Mode, spec.NetworkMode("")), "the proxy's container is on the default bridge")
	assert.Check(t, is.Equal(px.Image, DefaultProxyImage))
}

func TestPrivateCodexTakesTheGatewayOnItsCommandLine(t *testing.T) {
	p, err := Build(agentInput(t, "codex", spec.Private))
	assert.NilError(t, err)
	argv := strings.Join(p.Run.Sandbox.Command, " ")
	assert.Check(t, is.Contains(argv, "base_url='http://127.0.0.1:8080/openai/v1'"))
	key, _ := env(proxyEnvOf(p.Run), "OPENAI_API_KEY")
	assert.Check(t, is.Equal(key.Value, realKey))
	assert.Check(t, is.Equal(key.From, "CODEX_API_KEY"), "a pasted script must read the key the run read")
	cred, _ := env(p.Run.Sandbox, "CODEX_API_KEY")
	assert.Check(t, cred.Value != realKey)
}

func TestPrivateWithoutKeyOrAllowlist(t *testing.T) {
	in := agentInput(t, "claude", spec.Private)
	in.Getenv = func(string) string { return "" }
	p, err := Build(in)
	assert.NilError(t, err)
	assert.Check(t, !p.Run.Sandbox.Egress.Gateway)
	assert.Check(t, is.Len(p.Run.HostProxy.Env, 0))
	assert.Check(t, is.Contains(strings.Join(p.Notices, "\n"), "ANTHROPIC_API_KEY is not set"))

	in = agentInput(t, "claude", spec.Private)
	in.Agent = nil
	in.Command = []string{"make", "test"}
	p, err = Build(in)
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(p.Run.HostProxy.Args, []string{"proxy"}))
	assert.Check(t, is.Contains(strings.Join(p.Notices, "\n"), "empty allowlist"))
}

func TestEgressNeedsATransport(t *testing.T) {
	in := agentInput(t, "claude", spec.Private)
	in.Egress = Egress{}
	_, err := Build(in)
	assert.Check(t, is.ErrorContains(err, `proxy transport "": want "host" or "container"`))
	in.Egress = Egress{Transport: spec.TransportHost}
	_, err = Build(in)
	assert.Check(t, is.ErrorContains(err, "host transport: the socket directory and the sandbox binary must be given"))
}

func TestUser(t *testing.T) {
	for _, tc := range []struct {
		owner, want string
		relaxRoot   bool
		notice      bool
	}{
		{"1000:1000", "1000:1000", false, false},
		{"0:0", Nobody, false, true},
		{"0:0", "0:0", true, false},
		{"", Nobody, false, true},
	} {
		in := agentInput(t, "claude", spec.Public)
		in.Owner = tc.owner
		in.Resolved.Relax.Root = tc.relaxRoot
		p, err := Build(in)
		assert.NilError(t, err)
		assert.Check(t, is.Equal(p.Run.Sandbox.User, tc.want), "owner %q", tc.owner)
		assert.Check(t, is.Equal(strings.Contains(strings.Join(p.Notices, "\n"), "belongs to root"), tc.notice), "owner %q", tc.owner)
	}
}

func TestBuildRefuses(t *testing.T) {
	in := agentInput(t, "claude", spec.Public)
	in.Command = []string{"ls"}
	_, err := Build(in)
	assert.Check(t, is.ErrorContains(err, "either a command or --agent"))

	in = agentInput(t, "claude", spec.Public)
	in.Agent = nil
	_, err = Build(in)
	assert.Check(t, is.ErrorContains(err, "nothing to run"))

	in = agentInput(t, "claude", spec.Public)
	in.Workspace = "relative/path"
	_, err = Build(in)
	assert.Check(t, is.ErrorContains(err, "absolute"))
}

func TestGeminiHomeFileIsANotice(t *testing.T) {
	p, err := Build(agentInput(t, "gemini", spec.Public))
	assert.NilError(t, err)
	assert.Check(t, is.Contains(strings.Join(p.Notices, "\n"), "~/.gemini/settings.json"))
}

func TestNewRunIDIsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewRunID()
		assert.Assert(t, len(id) == 12 && !seen[id])
		seen[id] = true
	}
}

func TestExtraMounts(t *testing.T) {
	in := agentInput(t, "codex", spec.Public)
	in.Mounts = []spec.Mount{{Source: "/tmp/review-context", Target: "/context", ReadOnly: true}}
	p, err := Build(in)
	assert.NilError(t, err)
	assert.Check(t, slices.Contains(p.Run.Sandbox.Mounts, in.Mounts[0]), "mounts: %+v", p.Run.Sandbox.Mounts)

	in.Mounts = []spec.Mount{{Source: "context", Target: "/context", ReadOnly: true}}
	_, err = Build(in)
	assert.Check(t, is.ErrorContains(err, "mounts["))
	assert.Check(t, is.ErrorContains(err, `"context": must be an absolute path`))
}

// The summary names the user the sandbox really runs as, not "workspace
// owner" when that owner is root and the sandbox runs as nobody.
func TestSummaryNamesTheRealUser(t *testing.T) {
	for _, tc := range []struct{ owner, want string }{
		{"1000:1000", "user=1000:1000 (workspace owner)"},
		{"0:0", "user=" + Nobody + " (nobody: the workspace belongs to root)"},
	} {
		in := agentInput(t, "claude", spec.Public)
		in.Owner = tc.owner
		p, err := Build(in)
		assert.NilError(t, err)
		assert.Check(t, is.Contains(strings.Join(p.Summary(in.Resolved), ", "), tc.want))
	}
}

// Private is the default network: a plain command gets a proxy placed, and
// the notice says how to allow hosts or opt out. Bad input is refused
// before the daemon is asked where the proxy runs.
func TestMakeIsPrivateByDefault(t *testing.T) {
	asked := 0
	place := func(ctx context.Context, s Settings) (Egress, error) { asked++; return onHost(ctx, s) }
	req := Request{
		Workspace: t.TempDir(),
		NoConfig:  true,
		Flags:     features.Layer{Settings: features.Settings{Image: new("tools:1")}},
		Command:   []string{"make", "test"},
		Egress:    place,
	}
	p, s, err := Make(context.Background(), req, nil)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(s.Features.Network, spec.Private))
	assert.Check(t, is.Equal(asked, 1))
	assert.Check(t, is.Equal(p.Run.Sandbox.Network.Mode, spec.Private))
	assert.Check(t, p.Run.Sandbox.Egress != nil && p.Run.Sandbox.Egress.Proxy)
	assert.Check(t, is.Contains(strings.Join(p.Notices, "\n"),
		"network private (default) with an empty allowlist: the sandbox can reach no host; add --allow HOST (or a bundle such as @go), or opt out with --network public"))

	// Opting out: no proxy, nothing asked.
	asked = 0
	req.Flags.Settings.Network = new(spec.Public)
	p, _, err = Make(context.Background(), req, nil)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(asked, 0))
	assert.Check(t, p.Run.Sandbox.Egress == nil)

	for _, bad := range []func(*Request){
		func(r *Request) { r.Flags.Settings.Image = new("-v") },
		func(r *Request) { r.Env = []string{"GITHUB_TOKEN=ghs_x"} },
		func(r *Request) { r.Command = nil },
	} {
		asked = 0
		r := req
		r.Flags.Settings.Network = nil
		bad(&r)
		_, _, err := Make(context.Background(), r, nil)
		assert.Check(t, err != nil)
		assert.Check(t, is.Equal(asked, 0), "the daemon was asked before %v was refused", err)
	}

	// What the daemon says is the error when the input is fine.
	req.Flags.Settings.Network = nil
	req.Egress = func(context.Context, Settings) (Egress, error) { return Egress{}, errors.New("no daemon") }
	_, _, err = Make(context.Background(), req, nil)
	assert.Check(t, is.Error(err, "no daemon"))
}

package plan

import (
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
	}
}

func env(s spec.RunSpec, name string) (spec.EnvVar, bool) {
	i := slices.IndexFunc(s.Env, func(e spec.EnvVar) bool { return e.Name == name })
	if i < 0 {
		return spec.EnvVar{}, false
	}
	return s.Env[i], true
}

func TestPublicAgentGetsItsKeyAsASecret(t *testing.T) {
	p, err := Build(agentInput(t, "claude", spec.Public))
	assert.NilError(t, err)
	s := p.Run.Sandbox
	assert.Check(t, p.Run.Proxy == nil)
	key, ok := env(s, "ANTHROPIC_API_KEY")
	assert.Assert(t, ok)
	assert.Check(t, key.Secret && key.Value == realKey)
	v, _ := env(s, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC")
	assert.Check(t, is.Equal(v.Value, "1"))
	assert.Check(t, is.Equal(s.Command[0], "claude"))
	assert.Check(t, is.Equal(s.User, "1000:1000"))
	_, leaked := env(s, "GITHUB_TOKEN")
	assert.Check(t, !leaked)
}

func TestPrivateAgentKeyStaysInTheProxy(t *testing.T) {
	p, err := Build(agentInput(t, "claude", spec.Private))
	assert.NilError(t, err)
	s, px := p.Run.Sandbox, p.Run.Proxy
	assert.Assert(t, px != nil)

	cred, ok := env(s, "ANTHROPIC_API_KEY")
	assert.Assert(t, ok)
	assert.Check(t, cred.Value != realKey, "the sandbox holds the real key")
	assert.Check(t, is.Nil(egress.ValidateSessionToken(cred.Value)))
	assert.Check(t, cred.Secret && cred.Token == egress.TokenEnv)
	base, _ := env(s, "ANTHROPIC_BASE_URL")
	assert.Check(t, is.Equal(base.Value, "http://"+px.Name+":8080/anthropic"))
	assert.Check(t, slices.Contains(s.Network.NoProxy, px.Name), "gateway traffic would go through the proxy")
	assert.Check(t, is.Equal(s.Network.ProxyURL, "http://"+px.Name+":3128"))

	key, _ := env(*px, "ANTHROPIC_API_KEY")
	assert.Check(t, key.Secret && key.Value == realKey)
	token, _ := env(*px, egress.TokenEnv)
	assert.Check(t, token.Secret && token.Value == cred.Value)
	assert.Check(t, is.DeepEqual(px.Command, []string{"proxy", "--listen", ":3128", "--gateway-listen", ":8080", "--allow", "api.anthropic.com"}))
	assert.Check(t, is.DeepEqual(px.Network.Outside, []string{"bridge"}))
	assert.Check(t, is.Equal(px.User, Nobody))
	assert.Check(t, is.Equal(px.Role, spec.RoleProxy))
	for _, e := range s.Env {
		assert.Check(t, e.Value != realKey && !strings.Contains(e.Value, "ghs_"), "sandbox env %s", e.Name)
	}
}

func TestPrivateCodexTakesTheGatewayOnItsCommandLine(t *testing.T) {
	p, err := Build(agentInput(t, "codex", spec.Private))
	assert.NilError(t, err)
	argv := strings.Join(p.Run.Sandbox.Command, " ")
	assert.Check(t, is.Contains(argv, "base_url='http://"+p.Run.Proxy.Name+":8080/openai/v1'"))
	key, _ := env(*p.Run.Proxy, "OPENAI_API_KEY")
	assert.Check(t, is.Equal(key.Value, realKey))
	cred, _ := env(p.Run.Sandbox, "CODEX_API_KEY")
	assert.Check(t, cred.Value != realKey)
}

func TestPrivateWithoutKeyOrAllowlist(t *testing.T) {
	in := agentInput(t, "claude", spec.Private)
	in.Getenv = func(string) string { return "" }
	p, err := Build(in)
	assert.NilError(t, err)
	assert.Check(t, !slices.Contains(p.Run.Proxy.Command, "--gateway-listen"))
	assert.Check(t, is.Contains(strings.Join(p.Notices, "\n"), "ANTHROPIC_API_KEY is not set"))

	in = agentInput(t, "claude", spec.Private)
	in.Agent = nil
	in.Command = []string{"make", "test"}
	p, err = Build(in)
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(p.Run.Proxy.Command, []string{"proxy", "--listen", ":3128"}))
	assert.Check(t, is.Contains(strings.Join(p.Notices, "\n"), "empty allowlist"))
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

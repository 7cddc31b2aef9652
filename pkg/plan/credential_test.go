package plan

import (
	"context"

	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/spec"
)

// An explicit request for the agent's credential variable, whichever way it
// was given (--secret, -e NAME=VALUE, -e NAME, --env-file, config secrets:
// all arrive as Input.Env), is read in private mode as "give the gateway
// this key": the real key never enters the sandbox.
func TestPrivateExplicitCredentialGoesToTheGateway(t *testing.T) {
	const explicitKey = "sk-explicit-key-9876543210"
	for _, tc := range []struct {
		agent   string
		env     []spec.EnvVar
		wantKey string
	}{
		{"claude", []spec.EnvVar{{Name: "ANTHROPIC_API_KEY", Value: explicitKey, Secret: true}}, explicitKey},
		{"claude", []spec.EnvVar{{Name: "ANTHROPIC_API_KEY", Value: explicitKey}}, explicitKey},
		{"claude", []spec.EnvVar{{Name: "ANTHROPIC_API_KEY", Value: realKey}, {Name: "OTHER", Value: "x"}}, realKey},
		{"codex", []spec.EnvVar{{Name: "CODEX_API_KEY", Value: explicitKey, Secret: true}}, explicitKey},
		// Codex's vendor key is OPENAI_API_KEY: it is a real key too.
		{"codex", []spec.EnvVar{{Name: "OPENAI_API_KEY", Value: explicitKey}}, explicitKey},
		{"gemini", []spec.EnvVar{{Name: "GEMINI_API_KEY", Value: explicitKey}}, explicitKey},
	} {
		in := agentInput(t, tc.agent, spec.Private)
		in.Env = tc.env
		// Even with the key unset in the environment, the explicit one is used.
		in.Getenv = func(string) string { return "" }
		p, err := Build(in)
		assert.NilError(t, err, tc.agent)
		for _, e := range p.Run.Sandbox.Env {
			assert.Check(t, e.Value != explicitKey && e.Value != realKey, "%s: sandbox env %s holds the real key", tc.agent, e.Name)
		}
		var proxyKey string
		for _, e := range proxyEnvOf(p.Run).Env {
			if e.Value == tc.wantKey {
				proxyKey = e.Name
				assert.Check(t, e.Secret)
			}
		}
		assert.Check(t, proxyKey != "", "%s: the gateway did not get the explicit key", tc.agent)
		assert.Check(t, p.Run.Sandbox.Egress.Gateway, tc.agent)
		notices := strings.Join(p.Notices, "\n")
		assert.Check(t, is.Equal(strings.Count(notices, "credential gateway"), 1), "%s: notices:\n%s", tc.agent, notices)
		assert.Check(t, !strings.Contains(notices, "is not set"), "%s: notices:\n%s", tc.agent, notices)
		if tc.env[len(tc.env)-1].Name == "OTHER" {
			v, ok := env(p.Run.Sandbox, "OTHER")
			assert.Check(t, ok && v.Value == "x", "other variables still reach the sandbox")
		}
	}
}

// A credential variable is a secret whichever way it was given: rendered
// argv shows its name only.
func TestCredentialIsAlwaysSecret(t *testing.T) {
	for _, mode := range []spec.NetworkMode{spec.Public, spec.Private} {
		in := agentInput(t, "claude", mode)
		in.Agent = nil
		in.Command = []string{"make"}
		in.Env = []spec.EnvVar{{Name: "ANTHROPIC_API_KEY", Value: realKey}, {Name: "OPENAI_API_KEY", Value: realKey}}
		p, err := Build(in)
		assert.NilError(t, err)
		for _, e := range p.Run.Sandbox.Env {
			if e.Value == realKey {
				assert.Check(t, e.Secret, "%s: %s not secret", mode, e.Name)
			}
		}
		assert.Check(t, !strings.Contains(p.Run.Script(), realKey), "%s: script shows the key:\n%s", mode, p.Run.Script())
	}
	in := agentInput(t, "claude", spec.Public)
	in.Env = []spec.EnvVar{{Name: "ANTHROPIC_API_KEY", Value: realKey}}
	p, err := Build(in)
	assert.NilError(t, err)
	assert.Check(t, !strings.Contains(p.Run.Script(), realKey), "script shows the key:\n%s", p.Run.Script())
}

// A model key given explicitly to a plain command (-e, --secret, an env
// file, config secrets; --agent command too) goes to the credential gateway
// as an agent's does, in either network mode and on either transport: the
// sandbox gets the session token under the name it was given and the
// vendor's own base-URL variable pointing at the gateway.
func TestPlainCommandKeyGoesToTheGateway(t *testing.T) {
	const (
		anthropicKey = "sk-ant-plain-key-1111"
		openAIKey    = "sk-openai-plain-key-2222"
		geminiKey    = "gm-plain-key-3333"
	)
	type want struct{ token, baseEnv, base string }
	for _, tc := range []struct {
		name  string
		agent string // "" for a plain command
		env   []spec.EnvVar
		// sandbox: variable → the gateway's base URL (or "" for a token);
		// proxy: the proxy's key variables → value and the variable a
		// pasted script reads it from.
		sandbox map[string]string
		proxy   map[string][2]string
	}{
		{name: "anthropic", env: []spec.EnvVar{{Name: "ANTHROPIC_API_KEY", Value: anthropicKey}},
			sandbox: map[string]string{"ANTHROPIC_API_KEY": "", "ANTHROPIC_BASE_URL": "http://127.0.0.1:8080/anthropic"},
			proxy:   map[string][2]string{"ANTHROPIC_API_KEY": {anthropicKey, "ANTHROPIC_API_KEY"}}},
		{name: "openai", env: []spec.EnvVar{{Name: "OPENAI_API_KEY", Value: openAIKey, Secret: true}},
			sandbox: map[string]string{"OPENAI_API_KEY": "", "OPENAI_BASE_URL": "http://127.0.0.1:8080/openai/v1"},
			proxy:   map[string][2]string{"OPENAI_API_KEY": {openAIKey, "OPENAI_API_KEY"}}},
		{name: "codex key", env: []spec.EnvVar{{Name: "CODEX_API_KEY", Value: openAIKey}},
			sandbox: map[string]string{"CODEX_API_KEY": "", "OPENAI_BASE_URL": "http://127.0.0.1:8080/openai/v1"},
			proxy:   map[string][2]string{"OPENAI_API_KEY": {openAIKey, "CODEX_API_KEY"}}},
		{name: "gemini", env: []spec.EnvVar{{Name: "GEMINI_API_KEY", Value: geminiKey}},
			sandbox: map[string]string{"GEMINI_API_KEY": "", "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:8080/gemini"},
			proxy:   map[string][2]string{"GEMINI_API_KEY": {geminiKey, "GEMINI_API_KEY"}}},
		{name: "every vendor", env: []spec.EnvVar{{Name: "OTHER", Value: "x"}, {Name: "GEMINI_API_KEY", Value: geminiKey},
			{Name: "ANTHROPIC_API_KEY", Value: anthropicKey}, {Name: "OPENAI_API_KEY", Value: openAIKey}, {Name: "CODEX_API_KEY", Value: openAIKey}},
			sandbox: map[string]string{"ANTHROPIC_API_KEY": "", "OPENAI_API_KEY": "", "CODEX_API_KEY": "", "GEMINI_API_KEY": "",
				"ANTHROPIC_BASE_URL": "http://127.0.0.1:8080/anthropic", "OPENAI_BASE_URL": "http://127.0.0.1:8080/openai/v1",
				"GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:8080/gemini", "OTHER": "x"},
			proxy: map[string][2]string{"ANTHROPIC_API_KEY": {anthropicKey, "ANTHROPIC_API_KEY"},
				"OPENAI_API_KEY": {openAIKey, "OPENAI_API_KEY"}, "GEMINI_API_KEY": {geminiKey, "GEMINI_API_KEY"}}},
		{name: "--agent command", agent: "command", env: []spec.EnvVar{{Name: "ANTHROPIC_API_KEY", Value: anthropicKey, Secret: true}},
			sandbox: map[string]string{"ANTHROPIC_API_KEY": "", "ANTHROPIC_BASE_URL": "http://127.0.0.1:8080/anthropic"},
			proxy:   map[string][2]string{"ANTHROPIC_API_KEY": {anthropicKey, "ANTHROPIC_API_KEY"}}},
	} {
		for _, mode := range []spec.NetworkMode{spec.Public, spec.Private} {
			for _, transport := range []string{spec.TransportHost, spec.TransportContainer} {
				t.Run(tc.name+"/"+string(mode)+"/"+transport, func(t *testing.T) {
					in := agentInput(t, "command", mode)
					if tc.agent == "" {
						in.Agent = nil
					} else {
						in.Agent.Request.Prompt = ""
					}
					in.Command = []string{"some-tool", "--flag"}
					in.Egress.Transport = transport
					in.Env = tc.env
					p, err := Build(in)
					assert.NilError(t, err)
					s := p.Run.Sandbox
					assert.Check(t, is.DeepEqual(s.Command, []string{"some-tool", "--flag"}))
					assert.Assert(t, s.Egress != nil && s.Egress.Gateway, "no gateway")
					assert.Check(t, is.Equal(s.Egress.Proxy, mode == spec.Private))
					assert.Check(t, is.Equal(p.Run.Transport(), transport))
					px := proxyEnvOf(p.Run)
					token, ok := env(px, egress.TokenEnv)
					assert.Assert(t, ok && token.Secret && egress.ValidateSessionToken(token.Value) == nil)
					for _, e := range s.Env {
						for _, k := range []string{anthropicKey, openAIKey, geminiKey, realKey} {
							assert.Check(t, !strings.Contains(e.Value, k), "sandbox env %s holds a real key", e.Name)
						}
					}
					for name, base := range tc.sandbox {
						v, ok := env(s, name)
						if !assert.Check(t, ok, "sandbox lacks %s", name) {
							continue
						}
						if base != "" {
							assert.Check(t, is.Equal(v.Value, base), name)
							continue
						}
						if name != "OTHER" {
							assert.Check(t, v.Value == token.Value && v.Secret && v.Token == egress.TokenEnv, "%s: %+v", name, v)
						}
					}
					for name, w := range tc.proxy {
						v, ok := env(px, name)
						assert.Check(t, ok && v.Secret && v.Value == w[0], "proxy %s: %+v", name, v)
						src := v.From
						if src == "" {
							src = v.Name
						}
						assert.Check(t, is.Equal(src, w[1]), "a pasted script must read %s's key from the variable the run read", name)
					}
					assert.Check(t, is.Len(px.Env, len(tc.proxy)+1), "the proxy gets its keys and token, nothing else: %+v", px.Env)
					notices := strings.Join(p.Notices, "\n")
					assert.Check(t, is.Equal(strings.Count(notices, "credential gateway"), 1), "notices:\n%s", notices)
					script := p.Run.Script()
					for _, k := range []string{anthropicKey, openAIKey, geminiKey} {
						assert.Check(t, !strings.Contains(script, k), "script shows a key:\n%s", script)
					}
					assert.Check(t, is.Nil(p.Run.Validate()))
				})
			}
		}
	}
}

// A key given explicitly but empty is no key: nothing to front, and the
// variable reaches the sandbox as given. A public plain command without a
// key has no egress at all (TestPublicCommandHasNoEgress).
func TestPlainCommandEmptyKeyIsNotFronted(t *testing.T) {
	in := agentInput(t, "claude", spec.Public)
	in.Agent, in.Command = nil, []string{"make"}
	in.Env = []spec.EnvVar{{Name: "ANTHROPIC_API_KEY", Value: ""}}
	p, err := Build(in)
	assert.NilError(t, err)
	assert.Check(t, p.Run.Sandbox.Egress == nil)
	v, ok := env(p.Run.Sandbox, "ANTHROPIC_API_KEY")
	assert.Check(t, ok && v.Value == "")
}

// A plain command's model base URL feeds the gateway when it fronts one
// vendor; with several it cannot say which, and is refused.
func TestPlainCommandModelBaseURL(t *testing.T) {
	in := agentInput(t, "claude", spec.Private)
	in.Agent, in.Command = nil, []string{"make"}
	in.Env = []spec.EnvVar{{Name: "OPENAI_API_KEY", Value: realKey}}
	in.ModelBaseURL = "https://litellm.corp.example/openai"
	p, err := Build(in)
	assert.NilError(t, err)
	assert.Check(t, is.Contains(strings.Join(p.Run.HostProxy.Args, " "), "--upstream openai=https://litellm.corp.example/openai"))

	in.Env = append(in.Env, spec.EnvVar{Name: "GEMINI_API_KEY", Value: realKey})
	_, err = Build(in)
	assert.Check(t, is.ErrorContains(err, "model base URL: the gateway fronts gemini and openai"))
}

// Make asks where the proxy runs for a public plain command only when it
// is given a model key: the gateway fronts it.
func TestMakePlacesTheGatewayForAPlainCommandsKey(t *testing.T) {
	asked := 0
	place := func(ctx context.Context, s Settings) (Egress, error) { asked++; return onHost(ctx, s) }
	req := Request{
		Workspace: t.TempDir(),
		NoConfig:  true,
		Flags:     features.Layer{Settings: features.Settings{Image: new("tools:1"), Network: new(spec.Public)}},
		Command:   []string{"some-tool"},
		Env:       []string{"ANTHROPIC_API_KEY"},
		LookupEnv: func(n string) (string, bool) { return realKey, n == "ANTHROPIC_API_KEY" },
		Egress:    place,
	}
	p, _, err := Make(context.Background(), req, nil)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(asked, 1))
	assert.Assert(t, p.Run.Sandbox.Egress != nil && p.Run.Sandbox.Egress.Gateway)
	v, _ := env(p.Run.Sandbox, "ANTHROPIC_API_KEY")
	assert.Check(t, v.Value != realKey)
}

// An agent run's model base URL is its own vendor's, even when another
// vendor's key was given to it too (and is fronted as well).
func TestAgentModelBaseURLIsItsVendors(t *testing.T) {
	in := agentInput(t, "claude", spec.Public)
	in.Env = []spec.EnvVar{{Name: "GEMINI_API_KEY", Value: "gm-other"}}
	in.ModelBaseURL = "https://litellm.corp.example/anthropic"
	p, err := Build(in)
	assert.NilError(t, err)
	assert.Check(t, is.Contains(strings.Join(p.Run.HostProxy.Args, " "), "--upstream anthropic=https://litellm.corp.example/anthropic"))
	v, _ := env(p.Run.Sandbox, "GEMINI_API_KEY")
	assert.Check(t, v.Value != "gm-other" && v.Token == egress.TokenEnv)
	base, _ := env(p.Run.Sandbox, "GOOGLE_GEMINI_BASE_URL")
	assert.Check(t, is.Equal(base.Value, "http://127.0.0.1:8080/gemini"))
}

// A plain command is pointed at the gateway by the variables the agent CLIs
// of the same vendor read, where they have one.
func TestSDKBaseURLMatchesTheAgents(t *testing.T) {
	for name, v := range vendors {
		a, err := agent.Get(name)
		assert.NilError(t, err)
		if e := a.Setup().BaseURLEnv; e != "" {
			assert.Check(t, is.Equal(sdkBaseURL[v].env, e), name)
		}
	}
	for _, v := range egress.Vendors {
		assert.Check(t, sdkBaseURL[v].env != "", "%s has no base-URL variable", v)
	}
}

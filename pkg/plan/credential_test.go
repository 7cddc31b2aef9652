package plan

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

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

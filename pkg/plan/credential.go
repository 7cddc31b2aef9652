package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/spec"
)

// credentialNames are the variables that carry a model API key: every
// agent's credential variable and every vendor's key variable. Their values
// are secrets whichever way they were given.
func credentialNames() []string {
	var names []string
	for _, n := range agent.Names() {
		a, err := agent.Get(n)
		if err != nil {
			continue
		}
		if c := a.Setup().CredentialEnv; c != "" && !slices.Contains(names, c) {
			names = append(names, c)
		}
	}
	for _, v := range vendors {
		if k := v.KeyEnv(); k != "" && !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	return names
}

// markCredentialsSecret makes every credential variable in env a secret, so
// that argv shown to people names it without its value even when it was
// given as -e NAME=VALUE or read from an env file.
func markCredentialsSecret(env []spec.EnvVar) {
	names := credentialNames()
	for i := range env {
		if slices.Contains(names, env[i].Name) {
			env[i].Secret = true
		}
	}
}

// takeCredential removes the agent's real key from the sandbox's explicit
// environment and returns it for the gateway. The agent's credential
// variable and its vendor's key variable count (for Codex, CODEX_API_KEY
// and OPENAI_API_KEY); the agent's own variable is preferred. An explicit
// request for one of them (--secret, -e, --env-file, config secrets) can
// only mean "use this key", and in private mode a key is used through the
// gateway, in either mode: the sandbox gets a session token instead.
func takeCredential(s *spec.RunSpec, credEnv string, vendor egress.Vendor) (key, notice string) {
	names := []string{credEnv}
	if k := vendor.KeyEnv(); k != "" && k != credEnv {
		names = append(names, k)
	}
	var taken []string
	values := map[string]string{}
	s.Env = slices.DeleteFunc(s.Env, func(e spec.EnvVar) bool {
		if !slices.Contains(names, e.Name) {
			return false
		}
		taken = append(taken, e.Name)
		values[e.Name] = e.Value
		return true
	})
	if len(taken) == 0 {
		return "", ""
	}
	for _, n := range names {
		if values[n] != "" {
			key = values[n]
			break
		}
	}
	return key, fmt.Sprintf("%s given explicitly: the key goes to the credential gateway, never into the sandbox, which gets a per-run session token as %s",
		strings.Join(taken, " and "), credEnv)
}

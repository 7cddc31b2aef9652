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

// vendorNames are the credential variables whose key is for v's API, the
// vendor's own key variable first, then the agents' (CODEX_API_KEY is an
// OpenAI key).
func vendorNames(v egress.Vendor) []string {
	names := []string{v.KeyEnv()}
	for _, n := range agent.Names() {
		a, err := agent.Get(n)
		if err != nil || vendors[n] != v {
			continue
		}
		if c := a.Setup().CredentialEnv; c != "" && !slices.Contains(names, c) {
			names = append(names, c)
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

// givesKey reports whether env sets one of names to a non-empty value.
func givesKey(env []spec.EnvVar, names []string) bool {
	return slices.ContainsFunc(env, func(e spec.EnvVar) bool { return e.Value != "" && slices.Contains(names, e.Name) })
}

// takeCredential removes every variable of names from the sandbox's
// explicit environment and returns them, and the key the gateway uses: the
// first of names, in order, with a value. An explicit request for one of
// them (--secret, -e, --env-file, config secrets) can only mean "use this
// key", and a key is used through the gateway, in either network mode:
// the sandbox gets a session token instead. Two different values for one
// vendor cannot both be used: a notice says which one is.
func takeCredential(p *Plan, names []string) (taken []string, key, from string) {
	s := &p.Run.Sandbox
	values := map[string]string{}
	s.Env = slices.DeleteFunc(s.Env, func(e spec.EnvVar) bool {
		if !slices.Contains(names, e.Name) {
			return false
		}
		taken = append(taken, e.Name)
		values[e.Name] = e.Value
		return true
	})
	for _, n := range names {
		if values[n] == "" {
			continue
		}
		if key == "" {
			key, from = values[n], n
		} else if values[n] != key {
			p.Notices = append(p.Notices, fmt.Sprintf("%s and %s hold different keys for one model API: the gateway uses %s's", from, n, from))
		}
	}
	return taken, key, from
}

// gatewayNotice is the one line a run prints about the keys it was given
// explicitly: where they went and what the sandbox holds instead.
func gatewayNotice(taken, tokenAs, baseEnvs []string) string {
	verb := "the key goes"
	if len(tokenAs) > 1 {
		verb = "the keys go"
	}
	msg := fmt.Sprintf("%s given explicitly: %s to the credential gateway, never into the sandbox, which gets a per-run session token as %s",
		strings.Join(taken, " and "), verb, strings.Join(tokenAs, " and "))
	if len(baseEnvs) > 0 {
		msg += " and the gateway's URL as " + strings.Join(baseEnvs, " and ")
	}
	return msg + " (the gateway forwards model calls only)"
}

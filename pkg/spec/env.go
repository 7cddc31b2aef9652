package spec

import (
	"slices"
	"strings"
)

// Environment variables the sandbox sets itself.
const (
	EnvHome        = "HOME"
	EnvPrivateMode = "SANDBOX_PRIVATE_MODE"
)

// proxyEnv are the variables that send HTTP(S) through the egress proxy;
// both spellings, because tools disagree on which one they read.
var proxyEnv = []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"}

// noProxyEnv list the hosts reached without the proxy.
var noProxyEnv = []string{"NO_PROXY", "no_proxy"}

// alwaysNoProxy are loopback names: servers an agent starts inside its own
// sandbox (test servers, language servers) must not go through the proxy.
var alwaysNoProxy = []string{"localhost", "127.0.0.1", "::1"}

// env is the full environment: HOME, then private mode's variables, then
// s.Env in order.
func (s RunSpec) env() []EnvVar {
	env := []EnvVar{{Name: EnvHome, Value: HomeDir}}
	if s.Network.mode() == Private {
		for _, name := range proxyEnv {
			env = append(env, EnvVar{Name: name, Value: ProxyURL})
		}
		noProxy := strings.Join(s.Network.noProxy(), ",")
		for _, name := range noProxyEnv {
			env = append(env, EnvVar{Name: name, Value: noProxy})
		}
		env = append(env, EnvVar{Name: EnvPrivateMode, Value: "true"})
	}
	return append(env, s.Env...)
}

// reservedEnv returns the names env sets itself, which s.Env may not repeat.
func (s RunSpec) reservedEnv() map[string]bool {
	reserved := map[string]bool{EnvHome: true, EnvPrivateMode: true}
	if s.Network.mode() == Private {
		for _, name := range slices.Concat(proxyEnv, noProxyEnv) {
			reserved[name] = true
		}
	}
	return reserved
}

// mode returns the network mode; empty means Public.
func (n Network) mode() NetworkMode {
	if n.Mode == "" {
		return Public
	}
	return n.Mode
}

// noProxy returns loopback followed by NoProxy, without repeats.
func (n Network) noProxy() []string {
	hosts := append([]string(nil), alwaysNoProxy...)
	for _, h := range n.NoProxy {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// forbiddenEnv are credentials that never enter a sandbox, in any mode: the
// action makes every GitHub write itself, so the agent never needs them.
var forbiddenEnv = []string{"GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}

// ForbiddenEnv reports whether name is a GitHub credential that must never
// be given to a sandbox.
func ForbiddenEnv(name string) bool { return slices.Contains(forbiddenEnv, name) }

package egress

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Ports the proxy container listens on by convention.
const (
	ProxyPort   = 3128
	GatewayPort = 8080
)

// TokenEnv is the variable of the proxy's environment that carries the
// run's session token.
const TokenEnv = "SANDBOX_SESSION_TOKEN"

// KeyEnv is the variable of the proxy's environment that carries v's real
// API key (`sandbox proxy --key-env` can rename it).
func (v Vendor) KeyEnv() string {
	switch v {
	case Anthropic:
		return "ANTHROPIC_API_KEY"
	case OpenAI:
		return "OPENAI_API_KEY"
	case Gemini:
		return "GEMINI_API_KEY"
	}
	return ""
}

// Command describes a `sandbox proxy` invocation, so that whoever starts
// the proxy container builds its argv from the same names the command
// parses. Secrets are not part of it: they travel in the environment
// (TokenEnv, Vendor.KeyEnv).
type Command struct {
	// Listen is the proxy's address (see Listen); empty leaves the
	// command's default, ":3128".
	Listen string
	// GatewayListen is the gateway's address; empty means no gateway.
	GatewayListen string
	// CopyForwarder is where the proxy copies its own binary before it
	// listens, for sandboxes that share its volume and run it as their
	// forwarder; empty means no copy.
	CopyForwarder string
	Allow         []string
	// Ports are the default ports; nil means DefaultPorts.
	Ports []int
	// Upstreams override vendors' API base URLs.
	Upstreams map[Vendor]string
	// CAFile is a PEM file of extra roots inside the proxy container.
	CAFile string
	// TestAnyDestination turns off the check of where the proxy and the
	// gateway may connect (see Destinations), for tests whose fake
	// upstreams live on loopback or on a Docker network of their own. Only
	// Go callers can set it: no flag of `sandbox run` and no config key maps
	// to it.
	TestAnyDestination bool
	// AddHosts map names to addresses the proxy dials instead of resolving
	// them, for tests whose fake upstreams have no DNS name (with
	// TestAnyDestination only). The allowlist still applies to the names.
	AddHosts map[string]string
}

// EnvFDFlag is the `sandbox proxy` flag naming an inherited descriptor to
// read its secrets from (NUL-terminated NAME=VALUE entries) instead of its
// environment, which other processes of its uid can read in /proc until it
// has made itself undumpable, and root always.
const EnvFDFlag = "env-fd"

// TestAnyDestinationFlag is the hidden `sandbox proxy` flag behind
// Command.TestAnyDestination.
const TestAnyDestinationFlag = "test-any-destination"

// Args returns the arguments after the program name, starting with "proxy".
func (c Command) Args() []string {
	args := []string{"proxy"}
	if c.Listen != "" {
		args = append(args, "--listen", c.Listen)
	}
	if c.CopyForwarder != "" {
		args = append(args, "--copy-forwarder", c.CopyForwarder)
	}
	if c.GatewayListen != "" {
		args = append(args, "--gateway-listen", c.GatewayListen)
	}
	for _, a := range c.Allow {
		args = append(args, "--allow", a)
	}
	if c.Ports != nil {
		ps := make([]string, len(c.Ports))
		for i, p := range c.Ports {
			ps[i] = strconv.Itoa(p)
		}
		args = append(args, "--port", strings.Join(ps, ","))
	}
	for _, v := range slices.Sorted(maps.Keys(c.Upstreams)) {
		args = append(args, "--upstream", string(v)+"="+c.Upstreams[v])
	}
	if c.CAFile != "" {
		args = append(args, "--ca-file", c.CAFile)
	}
	if c.TestAnyDestination {
		args = append(args, "--"+TestAnyDestinationFlag)
	}
	for _, h := range slices.Sorted(maps.Keys(c.AddHosts)) {
		args = append(args, "--add-host", h+":"+c.AddHosts[h])
	}
	return args
}

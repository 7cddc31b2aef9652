package plan

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/spec"
)

// DefaultProxyImage is the image whose `sandbox proxy` serves as egress
// proxy: this project's own image.
const DefaultProxyImage = "sandbox-action:dev"

// proxyLimits keep the proxy small: it only relays bytes.
var proxyLimits = spec.Limits{MemoryBytes: 256 << 20, NanoCPUs: 1e9, PidsLimit: 128}

// vendors maps agents to the model API the credential gateway fronts.
var vendors = map[string]egress.Vendor{
	"claude": egress.Anthropic,
	"codex":  egress.OpenAI,
	"gemini": egress.Gemini,
}

// private puts p's sandbox on the run's internal network behind an egress
// proxy. The agent's model API is reached through the proxy's credential
// gateway: the sandbox holds a per-run session token as its API key and
// the real key never enters it.
func private(p *Plan, in Input) error {
	s := &p.Run.Sandbox
	// The run's network and proxy are named after its sandbox container
	// ("sandbox-<run id>" unless a name was given), so that `docker ps`
	// and `docker network ls` show which run they belong to.
	network := s.Name
	proxyName := network + "-proxy"
	s.Network.Name = network
	s.Network.ProxyURL = "http://" + proxyName + ":" + strconv.Itoa(egress.ProxyPort)
	// The gateway is on the internal network: reached directly, not tunnelled.
	s.Network.NoProxy = append(s.Network.NoProxy, proxyName)

	outside := in.Outside
	if len(outside) == 0 {
		outside = []string{"bridge"}
	}
	image := in.ProxyImage
	if image == "" {
		image = DefaultProxyImage
	}
	cmd := in.Proxy
	cmd.Allow = slices.Clone(in.Resolved.Allow)
	proxy := spec.RunSpec{
		RunID:       s.RunID,
		Name:        proxyName,
		Image:       image,
		Workspace:   s.Workspace,
		User:        Nobody,
		Network:     spec.Network{Mode: spec.Egress, Name: network, Outside: outside},
		Limits:      proxyLimits,
		Remove:      s.Remove,
		SandboxType: s.SandboxType,
		Bundle:      s.Bundle,
		CreatedBy:   s.CreatedBy,
		Origin:      s.Origin,
		Role:        spec.RoleProxy,
	}

	if in.Agent != nil {
		setup := in.Agent.Adapter.Setup()
		if len(cmd.Allow) == 0 {
			cmd.Allow = slices.Clone(setup.Hosts)
		}
		if err := gateway(p, in, &proxy, &cmd, setup.CredentialEnv, setup.BaseURLEnv); err != nil {
			return err
		}
	}
	if len(cmd.Allow) == 0 {
		p.Notices = append(p.Notices, "private mode with an empty allowlist: the sandbox can reach no host (add --allow HOST)")
	}
	proxy.Command = cmd.Args()
	p.Run.Proxy = &proxy
	return nil
}

// gateway moves the agent's real API key into the proxy and gives the
// sandbox a session token and the gateway's base URL instead.
func gateway(p *Plan, in Input, proxy *spec.RunSpec, cmd *egress.Command, credEnv, baseURLEnv string) error {
	name := in.Agent.Adapter.Name()
	vendor, ok := vendors[name]
	if !ok || credEnv == "" {
		return nil
	}
	key, notice := takeCredential(&p.Run.Sandbox, credEnv, vendor)
	if notice != "" {
		p.Notices = append(p.Notices, notice)
	}
	if key == "" {
		key = in.Getenv(credEnv)
	}
	if key == "" {
		p.Notices = append(p.Notices, fmt.Sprintf("%s is not set: the gateway has no key, so %s will not be able to reach its model API", credEnv, name))
		return nil
	}
	token, err := egress.NewSessionToken()
	if err != nil {
		return fmt.Errorf("session token: %w", err)
	}
	cmd.GatewayListen = ":" + strconv.Itoa(egress.GatewayPort)
	proxy.Env = append(proxy.Env,
		spec.EnvVar{Name: vendor.KeyEnv(), Value: key, Secret: true},
		spec.EnvVar{Name: egress.TokenEnv, Value: token, Secret: true},
	)
	base := vendor.BaseURL("http://" + proxy.Name + ":" + strconv.Itoa(egress.GatewayPort))
	s := &p.Run.Sandbox
	s.Env = appendEnv(s.Env, spec.EnvVar{Name: credEnv, Value: token, Secret: true, Token: egress.TokenEnv})
	if baseURLEnv != "" {
		s.Env = appendEnv(s.Env, spec.EnvVar{Name: baseURLEnv, Value: base})
		return nil
	}
	// A CLI without a base-URL variable (Codex) takes it on its command line.
	req := in.Agent.Request
	req.BaseURL = base
	argv, err := in.Agent.Adapter.Command(req)
	if err != nil {
		return err
	}
	s.Command = argv
	return nil
}

package plan

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/spec"
)

// DefaultProxyImage is the image whose `sandbox proxy` serves as egress
// proxy in the container transport: this project's own image.
const DefaultProxyImage = "sandbox-action:dev"

// proxyLimits keep the proxy's container small: it only relays bytes.
var proxyLimits = spec.Limits{MemoryBytes: 256 << 20, NanoCPUs: 1e9, PidsLimit: 128}

// vendors maps agents to the model API the credential gateway fronts.
var vendors = map[string]egress.Vendor{
	"claude": egress.Anthropic,
	"codex":  egress.OpenAI,
	"gemini": egress.Gemini,
}

// Egress says where a run's egress proxy runs and what the sandbox's image
// runs under the forwarder. The caller finds these out (pkg/engine: Host,
// ImageConfig); the plan only assembles them.
type Egress struct {
	// Transport is spec.TransportHost or spec.TransportContainer, and
	// Reason why, for the run's summary.
	Transport, Reason string
	// Dir is the directory the run's socket directory is made in, as this
	// process sees it (host transport).
	Dir string
	// HostDir is Dir's path on the daemon's host, when this process runs in
	// a container (the action); empty means Dir.
	HostDir string
	// Binary is the static `sandbox` binary run as the proxy and mounted
	// as the forwarder (host transport).
	Binary string
	// CopyForwarder copies Binary into the socket directory rather than
	// mounting it from where it is, for a Binary the daemon's host cannot
	// see (the action's own container).
	CopyForwarder bool
	// Entrypoint and Cmd are the sandbox image's ENTRYPOINT and CMD.
	Entrypoint, Cmd []string
}

// Summary is the run summary's line about the proxy's transport; none
// without a proxy.
func (e Egress) Summary() []string {
	if e.Transport == "" {
		return nil
	}
	return []string{fmt.Sprintf("proxy-transport=%s (%s)", e.Transport, e.Reason)}
}

// egressRun connects the sandbox to the run's egress proxy and credential
// gateway. A private sandbox has no network: the proxy is its only way out.
// Any agent run fronted by the gateway, private or public, holds a per-run
// session token as its API key; the real key stays with the proxy, outside
// every sandbox.
func egressRun(p *Plan, in Input) error {
	s := &p.Run.Sandbox
	private := s.Network.Mode == spec.Private
	e := &spec.Egress{Proxy: private, Entrypoint: in.Egress.Entrypoint, ImageCmd: in.Egress.Cmd}
	cmd := in.Proxy
	cmd.Allow = slices.Clone(in.Resolved.Allow)
	var proxyEnv []spec.EnvVar
	if in.Agent != nil {
		setup := in.Agent.Adapter.Setup()
		if private && len(cmd.Allow) == 0 {
			cmd.Allow = slices.Clone(setup.Hosts)
		}
		var err error
		if proxyEnv, err = gateway(p, in, e, setup.CredentialEnv, setup.BaseURLEnv); err != nil {
			return err
		}
	}
	if in.ModelBaseURL != "" || in.ModelCA != "" {
		var err error
		if proxyEnv, err = modelAPI(p, in, e.Gateway, &cmd, proxyEnv); err != nil {
			return err
		}
	}
	if !private && !e.Gateway {
		return nil
	}
	if private && len(cmd.Allow) == 0 {
		p.Notices = append(p.Notices, fmt.Sprintf(
			"network private (%s) with an empty allowlist: the sandbox can reach no host; add --allow HOST (or a bundle such as @go), or opt out with --network public",
			in.Resolved.Source(features.KeyNetwork).Phrase()))
	}
	if !private {
		// The gateway alone: the proxy's listener serves nothing the
		// sandbox is given.
		cmd.Allow = nil
	}

	switch in.Egress.Transport {
	case spec.TransportHost:
		if in.Egress.Dir == "" || in.Egress.Binary == "" {
			return fmt.Errorf("host transport: the socket directory and the sandbox binary must be given")
		}
		name := "sandbox-" + s.RunID
		dir := filepath.Join(in.Egress.Dir, name)
		hostDir := dir
		if in.Egress.HostDir != "" {
			hostDir = filepath.Join(in.Egress.HostDir, name)
		}
		e.Source = hostDir
		if !in.Egress.CopyForwarder {
			e.Forwarder = in.Egress.Binary
		}
		p.Run.HostProxy = &spec.HostProxy{Binary: in.Egress.Binary, Dir: dir, Args: cmd.Args(), Env: proxyEnv}
	case spec.TransportContainer:
		e.Source = spec.VolumeName(s.Name)
		e.Volume = true
		image := in.ProxyImage
		if image == "" {
			image = DefaultProxyImage
		}
		cmd.Listen = "unix:" + spec.SocketDir + "/" + spec.ProxySocket
		if e.Gateway {
			cmd.GatewayListen = "unix:" + spec.SocketDir + "/" + spec.GatewaySocket
		}
		cmd.CopyForwarder = spec.SocketDir + "/" + spec.ForwarderInDir
		p.Run.Proxy = &spec.RunSpec{
			RunID:       s.RunID,
			Name:        s.Name + "-proxy",
			Image:       image,
			Command:     cmd.Args(),
			Workspace:   s.Workspace,
			Env:         proxyEnv,
			User:        Nobody,
			Egress:      &spec.Egress{Source: e.Source, Volume: true, Proxy: true},
			Limits:      proxyLimits,
			Remove:      s.Remove,
			SandboxType: s.SandboxType,
			Bundle:      s.Bundle,
			CreatedBy:   s.CreatedBy,
			Origin:      s.Origin,
			Role:        spec.RoleProxy,
		}
	default:
		return fmt.Errorf("proxy transport %q: want %q or %q", in.Egress.Transport, spec.TransportHost, spec.TransportContainer)
	}
	s.Egress = e
	return nil
}

// gateway fronts the agent's model API: the real key goes to the proxy's
// environment, and the sandbox gets a session token and the gateway's
// base URL instead. It returns the proxy's environment.
func gateway(p *Plan, in Input, e *spec.Egress, credEnv, baseURLEnv string) ([]spec.EnvVar, error) {
	name := in.Agent.Adapter.Name()
	vendor, ok := vendors[name]
	if !ok || credEnv == "" {
		return nil, nil
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
		return nil, nil
	}
	token, err := egress.NewSessionToken()
	if err != nil {
		return nil, fmt.Errorf("session token: %w", err)
	}
	e.Gateway = true
	proxyEnv := []spec.EnvVar{
		// From: a pasted script reads the key from the variable the run
		// read it from (Codex's CODEX_API_KEY feeds the proxy's
		// OPENAI_API_KEY).
		{Name: vendor.KeyEnv(), Value: key, Secret: true, From: credEnv},
		{Name: egress.TokenEnv, Value: token, Secret: true, Token: egress.TokenEnv},
	}
	base := vendor.BaseURL(spec.GatewayURL)
	s := &p.Run.Sandbox
	s.Env = setEnv(s.Env, spec.EnvVar{Name: credEnv, Value: token, Secret: true, Token: egress.TokenEnv})
	if baseURLEnv != "" {
		s.Env = setEnv(s.Env, spec.EnvVar{Name: baseURLEnv, Value: base})
		return proxyEnv, nil
	}
	// A CLI without a base-URL variable (Codex) takes it on its command line.
	req := in.Agent.Request
	req.BaseURL = base
	argv, err := in.Agent.Adapter.Command(req)
	if err != nil {
		return nil, err
	}
	s.Command = argv
	return proxyEnv, nil
}

// setEnv sets v, replacing a variable of the same name: the gateway's
// token and base URL win over anything else, or the real key could reach
// the sandbox.
func setEnv(env []spec.EnvVar, v spec.EnvVar) []spec.EnvVar {
	for i, e := range env {
		if e.Name == v.Name {
			env[i] = v
			return env
		}
	}
	return append(env, v)
}

// modelAPI points the gateway at the model API the person chose instead of
// the vendor's (a LiteLLM or corporate gateway), and gives it the extra
// roots that API's certificate needs. The URL goes on the proxy's command
// line; the roots, PEM text, in its environment (egress.CAEnv), which
// reaches a host process and a proxy container alike. Neither is given to
// the sandbox: it talks to the gateway only.
func modelAPI(p *Plan, in Input, gateway bool, cmd *egress.Command, proxyEnv []spec.EnvVar) ([]spec.EnvVar, error) {
	if !gateway {
		p.Notices = append(p.Notices, "a model base URL or CA is set, but this run has no credential gateway (no agent, or no key): it is not used")
		return proxyEnv, nil
	}
	if in.ModelBaseURL != "" {
		if err := egress.ValidateUpstream(in.ModelBaseURL); err != nil {
			return nil, fmt.Errorf("model base URL: %w", err)
		}
		cmd.Upstreams = map[egress.Vendor]string{vendors[in.Agent.Adapter.Name()]: in.ModelBaseURL}
	}
	if in.ModelCA != "" {
		if err := egress.CheckPEMCerts([]byte(in.ModelCA)); err != nil {
			return nil, fmt.Errorf("model CA: %w", err)
		}
		proxyEnv = append(proxyEnv, spec.EnvVar{Name: egress.CAEnv, Value: egress.EncodeCAEnv([]byte(in.ModelCA))})
	}
	return proxyEnv, nil
}

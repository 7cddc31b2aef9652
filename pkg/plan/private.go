package plan

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

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
// Any run whose model key the gateway fronts (an agent's, or one given
// explicitly to a plain command), private or public, holds a per-run
// session token as its API key; the real key stays with the proxy, outside
// every sandbox.
func egressRun(p *Plan, in Input) error {
	s := &p.Run.Sandbox
	private := s.Network.Mode == spec.Private
	e := &spec.Egress{Proxy: private, Entrypoint: in.Egress.Entrypoint, ImageCmd: in.Egress.Cmd}
	cmd := in.Proxy
	cmd.Allow = slices.Clone(in.Resolved.Allow)
	if in.Agent != nil && private && len(cmd.Allow) == 0 {
		cmd.Allow = slices.Clone(in.Agent.Adapter.Setup().Hosts)
	}
	proxyEnv, fronted, err := gateway(p, in, e)
	if err != nil {
		return err
	}
	if in.ModelBaseURL != "" || in.ModelCA != "" {
		if proxyEnv, err = modelAPI(p, in, fronted, &cmd, proxyEnv); err != nil {
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

// sdkBaseURL are the variables the vendors' own SDKs read for their API's
// base URL, and the path below the gateway's route for the vendor that
// each expects there: OpenAI's SDKs take the API version in the base URL,
// Anthropic's and Google's add it themselves. Claude Code and Gemini CLI
// read the same variables (their adapters' BaseURLEnv).
var sdkBaseURL = map[egress.Vendor]struct{ env, path string }{
	egress.Anthropic: {"ANTHROPIC_BASE_URL", ""},
	egress.OpenAI:    {"OPENAI_BASE_URL", "/v1"},
	egress.Gemini:    {"GOOGLE_GEMINI_BASE_URL", ""},
}

// front is one vendor API the gateway fronts for a run.
type front struct {
	vendor egress.Vendor
	// names are the variables that carry the vendor's key, preferred
	// first; any given explicitly is taken out of the sandbox.
	names []string
	// fallback is the caller's variable the key is read from when none was
	// given explicitly: an agent's credential variable. A plain command's
	// keys are only ever the ones given to it.
	fallback string
	// tokenAs is where the sandbox gets the session token: the agent's
	// credential variable; empty means the names given (a plain command
	// reads the variable it was given).
	tokenAs string
	// baseEnv is the variable that points the sandbox at the gateway;
	// empty means the agent takes the URL on its command line (Codex).
	baseEnv, base string
}

// fronts are the model APIs the gateway may front for a run: the agent's
// own, whose key comes from the caller's environment unless given, and
// every other vendor whose key was given explicitly, to the agent or to a
// plain command alike.
func fronts(in Input, env []spec.EnvVar) []front {
	var fs []front
	if in.Agent != nil {
		setup := in.Agent.Adapter.Setup()
		if v, ok := vendors[in.Agent.Adapter.Name()]; ok && setup.CredentialEnv != "" {
			names := []string{setup.CredentialEnv}
			if k := v.KeyEnv(); k != setup.CredentialEnv {
				names = append(names, k)
			}
			fs = append(fs, front{vendor: v, names: names, fallback: setup.CredentialEnv, tokenAs: setup.CredentialEnv,
				baseEnv: setup.BaseURLEnv, base: v.BaseURL(spec.GatewayURL)})
		}
	}
	for _, v := range egress.Vendors {
		if slices.ContainsFunc(fs, func(f front) bool { return f.vendor == v }) || !givesKey(env, vendorNames(v)) {
			continue
		}
		b := sdkBaseURL[v]
		fs = append(fs, front{vendor: v, names: vendorNames(v), baseEnv: b.env, base: v.BaseURL(spec.GatewayURL) + b.path})
	}
	return fs
}

// gateway fronts the run's model APIs (see fronts): each real key goes to
// the proxy's environment, and the sandbox gets the run's session token
// and the gateway's base URL instead. It returns the proxy's environment
// and the vendors fronted.
func gateway(p *Plan, in Input, e *spec.Egress) ([]spec.EnvVar, []egress.Vendor, error) {
	s := &p.Run.Sandbox
	fs := fronts(in, s.Env)
	if len(fs) == 0 {
		return nil, nil, nil
	}
	token, err := egress.NewSessionToken()
	if err != nil {
		return nil, nil, fmt.Errorf("session token: %w", err)
	}
	var proxyEnv []spec.EnvVar
	var fronted []egress.Vendor
	var given, tokenAs, baseEnvs []string
	for _, f := range fs {
		taken, key, from := takeCredential(p, f.names)
		if key == "" && f.fallback != "" {
			key, from = in.Getenv(f.fallback), f.fallback
		}
		if key == "" {
			p.Notices = append(p.Notices, fmt.Sprintf("%s is not set: the gateway has no key, so %s will not be able to reach its model API", f.fallback, in.Agent.Adapter.Name()))
			continue
		}
		fronted = append(fronted, f.vendor)
		// From: a pasted script reads the key from the variable the run
		// read it from (Codex's CODEX_API_KEY feeds the proxy's
		// OPENAI_API_KEY).
		proxyEnv = append(proxyEnv, spec.EnvVar{Name: f.vendor.KeyEnv(), Value: key, Secret: true, From: from})
		names := taken
		if f.tokenAs != "" {
			names = []string{f.tokenAs}
		}
		for _, n := range names {
			s.Env = setEnv(s.Env, spec.EnvVar{Name: n, Value: token, Secret: true, Token: egress.TokenEnv})
		}
		if len(taken) > 0 {
			given, tokenAs = append(given, taken...), append(tokenAs, names...)
		}
		if f.baseEnv != "" {
			s.Env = setEnv(s.Env, spec.EnvVar{Name: f.baseEnv, Value: f.base})
			if len(taken) > 0 {
				baseEnvs = append(baseEnvs, f.baseEnv)
			}
			continue
		}
		// A CLI without a base-URL variable (Codex) takes it on its
		// command line.
		req := in.Agent.Request
		req.BaseURL = f.base
		if s.Command, err = in.Agent.Adapter.Command(req); err != nil {
			return nil, nil, err
		}
	}
	if len(given) > 0 {
		p.Notices = append(p.Notices, gatewayNotice(given, tokenAs, baseEnvs))
	}
	if len(fronted) == 0 {
		return nil, nil, nil
	}
	e.Gateway = true
	proxyEnv = append(proxyEnv, spec.EnvVar{Name: egress.TokenEnv, Value: token, Secret: true, Token: egress.TokenEnv})
	return proxyEnv, fronted, nil
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
// line, for the agent's vendor or else the one vendor the gateway fronts;
// the roots, PEM text, in its environment (egress.CAEnv), which reaches a
// host process and a proxy container alike. Neither is given to the
// sandbox: it talks to the gateway only.
func modelAPI(p *Plan, in Input, fronted []egress.Vendor, cmd *egress.Command, proxyEnv []spec.EnvVar) ([]spec.EnvVar, error) {
	if len(fronted) == 0 {
		p.Notices = append(p.Notices, "a model base URL or CA is set, but this run has no credential gateway (no agent, or no key): it is not used")
		return proxyEnv, nil
	}
	if in.ModelBaseURL != "" {
		if err := egress.ValidateUpstream(in.ModelBaseURL); err != nil {
			return nil, fmt.Errorf("model base URL: %w", err)
		}
		// An agent's own vendor, else the one vendor fronted.
		v := fronted[0]
		if in.Agent == nil || v != vendors[in.Agent.Adapter.Name()] {
			if len(fronted) > 1 {
				vs := make([]string, len(fronted))
				for i, v := range fronted {
					vs[i] = string(v)
				}
				slices.Sort(vs)
				return nil, fmt.Errorf("model base URL: the gateway fronts %s, and a base URL is one vendor's API: give the key of one vendor only", strings.Join(vs, " and "))
			}
		}
		cmd.Upstreams = map[egress.Vendor]string{v: in.ModelBaseURL}
	}
	if in.ModelCA != "" {
		if err := egress.CheckPEMCerts([]byte(in.ModelCA)); err != nil {
			return nil, fmt.Errorf("model CA: %w", err)
		}
		proxyEnv = append(proxyEnv, spec.EnvVar{Name: egress.CAEnv, Value: egress.EncodeCAEnv([]byte(in.ModelCA))})
	}
	return proxyEnv, nil
}

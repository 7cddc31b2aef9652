package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/config"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/spec"
)

// Request is a run as a front door asks for it: the choices a person made
// (flags, action inputs), already parsed into a layer, and where to find
// the rest (workspace, config file, environment). Make turns it into a
// Plan; both the sandbox CLI and the GitHub Action go through it.
type Request struct {
	// Workspace is the working tree, as given (relative paths allowed).
	Workspace string
	// ConfigPath names the config file; empty means WORKSPACE/.github/sandbox.yml
	// if present. A named file must exist.
	ConfigPath string
	// Config, when set, is used instead of reading a file, and is trusted
	// as it is: the action reads the config from a pull request's base
	// branch, not from the checked-out head.
	Config *config.File
	// Trust decides whether the privileged settings (config.Privileges)
	// of a config file read from the workspace apply; nil trusts none.
	// A config file with untrusted privileged settings fails the request
	// with a *config.UntrustedError.
	Trust config.Trust
	// NoConfig skips looking for a config file in the workspace.
	NoConfig bool
	// Flags are the explicit settings (the strongest layer).
	Flags features.Layer
	// Env are NAME=VALUE or NAME entries (docker -e), EnvFiles files of
	// them, Secrets names whose values are read from the environment.
	Env      []string
	EnvFiles []string
	Secrets  []string
	// Agent is the agent choice; a zero value with Command set runs a
	// plain command.
	Agent AgentChoice
	// Command is the program to run when no agent is chosen.
	Command []string
	// Mounts are extra bind mounts (see Input.Mounts).
	Mounts []spec.Mount
	// Name is the container name; generated when empty.
	Name string
	// RunID is the run's id; generated when empty.
	RunID string
	// CreatedBy names the front door: "cli", "action" or "e2e".
	CreatedBy string
	// Keep leaves the container after exit.
	Keep bool
	// ModelBaseURL is the agent's model API given explicitly (a flag, an
	// action input): the credential gateway's upstream, where the real key
	// goes. Empty leaves it to the config file's network.model_base_url and
	// then to the vendor's own API.
	ModelBaseURL string
	// ModelCA is PEM text of extra root certificates the gateway trusts for
	// the model API (a corporate CA); empty means the system's roots.
	ModelCA string
	// ProxyImage and Proxy are passed to Input.
	ProxyImage string
	Proxy      egress.Command
	// Egress places the run's egress proxy once the settings are known,
	// for a run that has one (private mode, or a run whose model key the
	// gateway fronts); nil leaves such a run without, which Build refuses.
	Egress EgressFunc
	// LookupEnv reads the caller's environment (os.LookupEnv outside
	// tests); nil means an empty environment.
	LookupEnv func(string) (string, bool)
	// ImageLabels, when set, reads the image's labels for an agent that
	// needs settings files in HOME: an image that declares them (see
	// LabelAgentSettings) gets no notice. Nil skips the lookup.
	ImageLabels ImageLabelsFunc
}

// AgentChoice is the agent part of a request; empty fields fall back to the
// config file's agent: block.
type AgentChoice struct {
	Name         string
	Prompt       string
	Model        string
	MaxTurns     int
	AllowedTools []string
	// Schema and SchemaPath ask for structured output (see agent.Request).
	Schema     json.RawMessage
	SchemaPath string
	// PermissionMode is Claude's --permission-mode.
	PermissionMode string
}

// EgressFunc finds where a run's egress proxy runs and what the sandbox's
// image runs (its ENTRYPOINT and CMD), from the resolved settings. The
// front door asks its daemon; the plan stays free of I/O.
type EgressFunc func(ctx context.Context, s Settings) (Egress, error)

// HostFunc tells Make what the Docker host offers; Make asks only when the
// settings need it (a runtime, more CPUs than this machine has). A nil
// HostFunc skips the check, as `sandbox cmd` does, which prints a command
// without talking to a daemon.
type HostFunc func(context.Context) (features.Host, error)

// Settings are a request's resolved settings: what a summary shows.
type Settings struct {
	// Features are the resolved options with their sources.
	Features features.Resolved
	// Config is the config file in effect; nil without one.
	Config *config.File
	// Workspace is the absolute host path of the working tree and Owner
	// its "UID:GID".
	Workspace, Owner string
	// ImageLabels are the image's labels when Make read them (see
	// Request.ImageLabels).
	ImageLabels map[string]string
	// Egress is where the run's egress proxy runs, when it has one.
	Egress Egress
	// ModelBaseURL is the model API the gateway forwards to, and
	// ModelBaseURLSource where it was set ("flag", "config NAME"); empty
	// means the vendor's API.
	ModelBaseURL, ModelBaseURLSource string
}

// Make resolves a request's settings (flags > config > bundle > type >
// default), fits them to the host and assembles the run. The returned
// Settings are valid whenever they could be resolved, even if assembling
// the run failed.
func Make(ctx context.Context, req Request, host HostFunc) (Plan, Settings, error) {
	s, err := Resolve(req)
	if err != nil {
		return Plan{}, s, err
	}
	if host != nil {
		s.Features.Gateway = reachesGateway(req, s)
		if err := fitHost(ctx, host, &s.Features); err != nil {
			return Plan{}, s, err
		}
	}
	if req.ImageLabels != nil {
		if a, err := agentRun(req.Agent, s.Config); err == nil && a != nil && len(a.Adapter.Setup().HomeFiles) > 0 {
			// A missing image is reported by the run itself.
			s.ImageLabels, _ = req.ImageLabels(ctx, s.Features.Image)
		}
	}
	if req.Egress != nil {
		if _, err := agentRun(req.Agent, s.Config); err != nil {
			return Plan{}, s, err
		}
		if s.Features.Network == spec.Private || reachesGateway(req, s) {
			// Bad input is reported before the daemon is asked where the
			// proxy runs and what the image runs (a private run, the
			// default, asks even for a plain command): assemble once with
			// a stand-in placement.
			if _, err := Assemble(req, standIn(s)); err != nil {
				return Plan{}, s, err
			}
			if s.Egress, err = req.Egress(ctx, s); err != nil {
				return Plan{}, s, err
			}
		}
	}
	p, err := Assemble(req, s)
	return p, s, err
}

// reachesGateway reports whether a run may reach the credential gateway:
// an agent run, or a plain command given a model key explicitly (see
// fronts). Bad input says no here and is reported by Assemble.
func reachesGateway(req Request, s Settings) bool {
	if a, _ := agentRun(req.Agent, s.Config); a != nil {
		return true
	}
	env, _ := Environment(req, s.Config)
	return slices.ContainsFunc(egress.Vendors, func(v egress.Vendor) bool { return givesKey(env, vendorNames(v)) })
}

// standIn is s with a host-transport placement of the proxy, for checking
// a request before the daemon is asked for the real one.
func standIn(s Settings) Settings {
	s.Egress = Egress{Transport: spec.TransportHost, Dir: os.TempDir(), Binary: "/sandbox"}
	return s
}

// Resolve reads the workspace and the config file and applies precedence.
func Resolve(req Request) (Settings, error) {
	var s Settings
	ws, owner, err := Workspace(req.Workspace)
	if err != nil {
		return s, err
	}
	s.Workspace, s.Owner = ws, owner

	if req.Config != nil {
		s.Config = req.Config
	} else if s.Config, err = loadConfig(req, ws); err != nil {
		return s, err
	}
	s.Features, err = features.Resolve(s.Config.Input(req.Flags))
	switch {
	case req.ModelBaseURL != "":
		s.ModelBaseURL, s.ModelBaseURLSource = req.ModelBaseURL, features.Source{Origin: features.FromFlag}.String()
	case s.Config != nil && s.Config.Network.ModelBaseURL != "":
		s.ModelBaseURL = s.Config.Network.ModelBaseURL
		s.ModelBaseURLSource = features.Source{Origin: features.FromConfig, Name: s.Config.Name()}.String()
	}
	if s.ModelBaseURL != "" {
		if verr := egress.ValidateUpstream(s.ModelBaseURL); verr != nil {
			return s, errors.Join(err, fmt.Errorf("model base URL: %w", verr))
		}
	}
	return s, err
}

// ModelSummary is the run summary's line about the model API, when it is
// not the vendor's own.
func (s Settings) ModelSummary() []string {
	if s.ModelBaseURL == "" {
		return nil
	}
	return []string{fmt.Sprintf("model-base-url=%s (from %s)", s.ModelBaseURL, s.ModelBaseURLSource)}
}

// fitHost checks the sandbox type's runtime against the daemon and lowers
// default CPU limits the host cannot give. It asks the daemon only when
// there is something to check, keeping `docker info` off the common path.
func fitHost(ctx context.Context, host HostFunc, r *features.Resolved) error {
	if r.Type.Runtime == "" && r.CPUs <= int64(runtime.NumCPU())*1e9 {
		return nil
	}
	h, err := host(ctx)
	if err != nil {
		return err
	}
	return r.Fit(h)
}

// Assemble builds the run from resolved settings and the request's
// environment, agent and command.
func Assemble(req Request, s Settings) (Plan, error) {
	if err := checkEnvFiles(req.EnvFiles, s.Workspace); err != nil {
		return Plan{}, err
	}
	env, err := Environment(req, s.Config)
	if err != nil {
		return Plan{}, err
	}
	a, err := agentRun(req.Agent, s.Config)
	if err != nil {
		return Plan{}, err
	}
	p, err := Build(Input{
		Resolved:     s.Features,
		Workspace:    s.Workspace,
		Owner:        s.Owner,
		Command:      req.Command,
		Env:          env,
		Agent:        a,
		RunID:        req.RunID,
		Name:         req.Name,
		CreatedBy:    req.CreatedBy,
		Keep:         req.Keep,
		Getenv:       getenv(req.LookupEnv),
		ProxyImage:   req.ProxyImage,
		Egress:       s.Egress,
		Proxy:        req.Proxy,
		ModelBaseURL: s.ModelBaseURL,
		ModelCA:      req.ModelCA,
		Mounts:       req.Mounts,
		ImageLabels:  s.ImageLabels,
	})
	return p, err
}

// agentRun returns the agent of the request (or the config's agent block),
// or nil for a plain command.
func agentRun(o AgentChoice, cfg *config.File) (*Agent, error) {
	var c config.Agent
	if cfg != nil {
		c = cfg.Agent
	}
	name := firstNonEmpty(o.Name, c.Name)
	if name == "" {
		// An agent option without an agent would be ignored silently.
		for _, f := range []struct {
			flag string
			set  bool
		}{
			{"--prompt", o.Prompt != ""},
			{"--model", o.Model != ""},
			{"--max-turns", o.MaxTurns != 0},
			{"--allowed-tools", len(o.AllowedTools) > 0},
		} {
			if f.set {
				return nil, fmt.Errorf("%s needs --agent (one of %s)", f.flag, strings.Join(agent.Names(), ", "))
			}
		}
		return nil, nil
	}
	a, err := agent.Get(name)
	if err != nil {
		return nil, err
	}
	req := agent.Request{
		Prompt:         firstNonEmpty(o.Prompt, c.Prompt),
		Model:          firstNonEmpty(o.Model, c.Model),
		MaxTurns:       o.MaxTurns,
		AllowedTools:   o.AllowedTools,
		Schema:         o.Schema,
		SchemaPath:     o.SchemaPath,
		PermissionMode: o.PermissionMode,
	}
	if req.MaxTurns == 0 && c.MaxTurns != nil {
		req.MaxTurns = *c.MaxTurns
	}
	if len(req.AllowedTools) == 0 {
		req.AllowedTools = c.AllowedTools
	}
	return &Agent{Adapter: a, Request: req}, nil
}

// LoadConfig reads the config file at path, naming it relative to the
// workspace in messages when it is inside it (".github/sandbox.yml:3:5").
func LoadConfig(path, ws string) (*config.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	name := path
	if rel, err := filepath.Rel(ws, path); err == nil && filepath.IsLocal(rel) {
		name = rel
	}
	return config.Parse(data, name)
}

func getenv(lookup func(string) (string, bool)) func(string) string {
	return func(name string) string {
		if lookup == nil {
			return ""
		}
		v, _ := lookup(name)
		return v
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

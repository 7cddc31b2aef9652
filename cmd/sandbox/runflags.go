package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/config"
	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/plan"
)

// runOptions are the flags `sandbox run` and `sandbox cmd` share, so the
// printed docker line and the run come from the same parsing.
type runOptions struct {
	image      string
	env        []string
	envFiles   []string
	secrets    []string
	memory     string
	cpus       string
	pids       int64
	user       string
	name       string
	rm         bool
	network    string
	allow      []string
	sbxType    string
	bundle     string
	relax      []string
	timeout    string
	workspace  string
	configPath string

	proxyImage     string
	proxyTransport string
	modelBaseURL   string
	modelCAFile    string

	agent        string
	prompt       string
	model        string
	maxTurns     int
	allowedTools []string

	lookupEnv func(string) (string, bool)
}

func (o *runOptions) bind(fs *pflag.FlagSet) {
	fs.SetInterspersed(false) // everything after the first argument is the command
	fs.StringVar(&o.image, "image", "", "image to run (default: image in the config file)")
	fs.StringArrayVarP(&o.env, "env", "e", nil, "set an environment variable: NAME=VALUE, or NAME to copy it from this environment")
	fs.StringArrayVar(&o.envFiles, "env-file", nil, "read environment variables from a file (NAME=VALUE or NAME lines; values are never printed)")
	fs.StringArrayVar(&o.secrets, "secret", nil, "pass the variable NAME from this environment as a secret (never printed)")
	fs.StringVarP(&o.memory, "memory", "m", "", "memory limit, e.g. 2g")
	fs.StringVar(&o.cpus, "cpus", "", "number of CPUs, e.g. 1.5")
	fs.Int64Var(&o.pids, "pids-limit", 0, "process limit")
	fs.StringVarP(&o.user, "user", "u", "", "UID:GID to run as (default: the workspace owner; root's group and the Docker socket's group need --relax root)")
	fs.StringVar(&o.name, "name", "", "container name (default: sandbox-RUNID)")
	fs.BoolVar(&o.rm, "rm", true, "remove the container when it exits")
	fs.StringVar(&o.network, "network", "", "network mode: private (the default: no network but the egress proxy's allowlist) or public (opts out: Docker's default bridge)")
	fs.StringVar(&o.proxyImage, "proxy-image", plan.DefaultProxyImage, "image whose 'sandbox proxy' is the private-mode egress proxy")
	fs.StringVar(&o.proxyTransport, "proxy-transport", transportAuto, "where the egress proxy runs: host (a child process; a local Linux daemon), container (the proxy image, on the default bridge) or auto")
	fs.StringVar(&o.modelBaseURL, "model-base-url", "", "the agent's model API behind the credential gateway, e.g. a LiteLLM or corporate gateway (default: the vendor's API; https, or http to a loopback address); the real key goes there")
	fs.StringVar(&o.modelCAFile, "model-ca-file", "", "PEM file of extra root certificates the gateway trusts for the model API")
	fs.StringArrayVar(&o.allow, "allow", nil, "host the private-mode egress proxy lets through (repeatable; *.suffix, host:port, or a bundle: @github, @go, @npm, @pypi, @debian, ...)")
	fs.StringVar(&o.sbxType, "type", "", "sandbox type: "+strings.Join(features.TypeNames(), ", "))
	fs.StringVar(&o.bundle, "bundle", "", "experiment bundle: "+strings.Join(features.BundleNames(), ", "))
	fs.StringArrayVar(&o.relax, "relax", nil, "give up one hardening default (logged): "+strings.Join(features.RelaxNames(), ", "))
	fs.StringVar(&o.timeout, "timeout", "", "wall-clock limit, e.g. 30m")
	fs.StringVar(&o.workspace, "workspace", ".", "working tree mounted at /workspace")
	fs.StringVar(&o.configPath, "config", "", "config file (default: WORKSPACE/"+config.DefaultPath+" if present)")
	fs.StringVar(&o.agent, "agent", "", "run an agent CLI headless: "+strings.Join(agent.Names(), ", "))
	fs.StringVar(&o.prompt, "prompt", "", "the agent's task (with --agent)")
	fs.StringVar(&o.model, "model", "", "pin the agent's model")
	fs.IntVar(&o.maxTurns, "max-turns", 0, "bound the agent's turns")
	fs.StringArrayVar(&o.allowedTools, "allowed-tools", nil, "tools the agent may use without asking (repeatable)")
}

// request turns the flags into a plan request for the command line args.
func (o *runOptions) request(flags *pflag.FlagSet, command []string) (plan.Request, error) {
	layer, err := o.layer(flags)
	if err != nil {
		return plan.Request{}, err
	}
	if flags.Changed("model-base-url") {
		if err := egress.ValidateUpstream(o.modelBaseURL); err != nil {
			return plan.Request{}, fmt.Errorf("--model-base-url: %w", err)
		}
	}
	var ca []byte
	if o.modelCAFile != "" {
		if ca, err = os.ReadFile(o.modelCAFile); err != nil {
			return plan.Request{}, fmt.Errorf("--model-ca-file: %w", err)
		}
		if err := egress.CheckPEMCerts(ca); err != nil {
			return plan.Request{}, fmt.Errorf("--model-ca-file %s: %w", o.modelCAFile, err)
		}
	}
	return plan.Request{
		Workspace:  o.workspace,
		ConfigPath: o.configPath,
		Trust:      trustStore(o.lookupEnv),
		Flags:      layer,
		Env:        o.env,
		EnvFiles:   o.envFiles,
		Secrets:    o.secrets,
		Agent: plan.AgentChoice{
			Name:         o.agent,
			Prompt:       o.prompt,
			Model:        o.model,
			MaxTurns:     o.maxTurns,
			AllowedTools: o.allowedTools,
		},
		Command:      command,
		Name:         o.name,
		CreatedBy:    "cli",
		Keep:         !o.rm,
		ProxyImage:   o.proxyImage,
		LookupEnv:    o.lookupEnv,
		ModelBaseURL: o.modelBaseURL,
		ModelCA:      string(ca),
	}, nil
}

// settingFlags maps flags to the keys of the one settings table
// (features.Options) that parses them.
var settingFlags = []struct{ flag, key string }{
	{"type", features.KeyType},
	{"bundle", features.KeyBundle},
	{"image", features.KeyImage},
	{"network", features.KeyNetwork},
	{"allow", features.KeyAllow},
	{"memory", features.KeyMemory},
	{"cpus", features.KeyCPUs},
	{"pids-limit", features.KeyPids},
	{"timeout", features.KeyTimeout},
	{"user", features.KeyUser},
	{"relax", features.KeyRelax},
}

// layer turns the flags a person actually gave into the strongest layer.
func (o *runOptions) layer(flags *pflag.FlagSet) (features.Layer, error) {
	var l features.Layer
	var errs []error
	for _, sf := range settingFlags {
		f := flags.Lookup(sf.flag)
		if f == nil || !f.Changed {
			continue
		}
		values := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			values = sv.GetSlice()
		}
		for _, v := range values {
			if err := features.Set(&l, sf.key, v); err != nil {
				errs = append(errs, fmt.Errorf("--%s: %w", sf.flag, err))
			}
		}
	}
	return l, errors.Join(errs...)
}

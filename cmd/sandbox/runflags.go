package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/config"
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

	proxyImage string

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
	fs.StringVarP(&o.user, "user", "u", "", "UID[:GID] to run as (default: the workspace owner)")
	fs.StringVar(&o.name, "name", "", "container name (default: sandbox-RUNID)")
	fs.BoolVar(&o.rm, "rm", true, "remove the container when it exits")
	fs.StringVar(&o.network, "network", "", "network mode: public or private")
	fs.StringVar(&o.proxyImage, "proxy-image", plan.DefaultProxyImage, "image whose 'sandbox proxy' is the private-mode egress proxy")
	fs.StringArrayVar(&o.allow, "allow", nil, "host the private-mode egress proxy lets through (repeatable; *.suffix allowed)")
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

// resolved is the outcome of reading flags, config file and workspace.
type resolved struct {
	features  features.Resolved
	config    *config.File
	workspace string
	owner     string
}

// resolve reads the workspace and config file and applies precedence.
func (o *runOptions) resolve(flags *pflag.FlagSet) (resolved, error) {
	var r resolved
	ws, owner, err := plan.Workspace(o.workspace)
	if err != nil {
		return r, err
	}
	r.workspace, r.owner = ws, owner

	path := o.configPath
	if path == "" {
		path, err = config.Find(ws)
	}
	if err == nil {
		r.config, err = loadConfig(path, ws)
	}
	// No config file is fine unless one was named explicitly.
	if err != nil && (o.configPath != "" || !errors.Is(err, fs.ErrNotExist)) {
		return r, err
	}

	layer, err := o.layer(flags)
	if err != nil {
		return r, err
	}
	r.features, err = features.Resolve(r.config.Input(layer))
	return r, err
}

// layer turns the flags a person actually gave into the strongest layer.
func (o *runOptions) layer(flags *pflag.FlagSet) (features.Layer, error) {
	var l features.Layer
	set := flags.Changed
	var errs []error
	if set("type") {
		l.Type = o.sbxType
	}
	if set("bundle") {
		l.Bundle = o.bundle
	}
	st := &l.Settings
	if set("image") {
		st.Image = &o.image
	}
	if set("network") {
		m, err := features.ParseNetwork(o.network)
		errs = append(errs, err)
		st.Network = &m
	}
	if set("allow") {
		for _, a := range o.allow {
			v, err := features.ParseAllow(a)
			errs = append(errs, err)
			st.Allow = append(st.Allow, v)
		}
	}
	if set("memory") {
		v, err := features.ParseMemory(o.memory)
		errs = append(errs, flagErr("--memory", err))
		st.Memory = &v
	}
	if set("cpus") {
		v, err := features.ParseCPUs(o.cpus)
		errs = append(errs, flagErr("--cpus", err))
		st.CPUs = &v
	}
	if set("pids-limit") {
		v, err := features.ParsePids(o.pids)
		errs = append(errs, flagErr("--pids-limit", err))
		st.Pids = &v
	}
	if set("timeout") {
		v, err := features.ParseTimeout(o.timeout)
		errs = append(errs, flagErr("--timeout", err))
		st.Timeout = &v
	}
	if set("user") {
		v, err := features.ParseUser(o.user)
		errs = append(errs, err)
		st.User = &v
	}
	if set("relax") {
		v, err := features.ParseRelax(o.relax)
		errs = append(errs, err)
		st.Relax = v
	}
	return l, errors.Join(errs...)
}

func flagErr(flag string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", flag, err)
}

// build assembles the run from resolved settings and the command line.
func (o *runOptions) build(r resolved, command []string) (plan.Plan, error) {
	env, err := o.environment(r.config)
	if err != nil {
		return plan.Plan{}, err
	}
	in := plan.Input{
		Resolved:   r.features,
		Workspace:  r.workspace,
		Owner:      r.owner,
		Command:    command,
		Env:        env,
		Name:       o.name,
		CreatedBy:  "cli",
		Keep:       !o.rm,
		Getenv:     o.getenv,
		ProxyImage: o.proxyImage,
	}
	a, err := o.agentRun(r.config)
	if err != nil {
		return plan.Plan{}, err
	}
	in.Agent = a
	return plan.Build(in)
}

// agentRun returns the agent request of --agent (or the config's agent
// block), or nil for a plain command.
func (o *runOptions) agentRun(cfg *config.File) (*plan.Agent, error) {
	var c config.Agent
	if cfg != nil {
		c = cfg.Agent
	}
	name := firstNonEmpty(o.agent, c.Name)
	if name == "" {
		if o.prompt != "" {
			return nil, fmt.Errorf("--prompt needs --agent (one of %s)", strings.Join(agent.Names(), ", "))
		}
		return nil, nil
	}
	a, err := agent.Get(name)
	if err != nil {
		return nil, err
	}
	req := agent.Request{
		Prompt:       firstNonEmpty(o.prompt, c.Prompt),
		Model:        firstNonEmpty(o.model, c.Model),
		MaxTurns:     o.maxTurns,
		AllowedTools: o.allowedTools,
	}
	if req.MaxTurns == 0 && c.MaxTurns != nil {
		req.MaxTurns = *c.MaxTurns
	}
	if len(req.AllowedTools) == 0 {
		req.AllowedTools = c.AllowedTools
	}
	return &plan.Agent{Adapter: a, Request: req}, nil
}

// getenv reads one variable of this environment.
func (o *runOptions) getenv(name string) string {
	v, _ := o.lookupEnv(name)
	return v
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// loadConfig reads the config file at path, naming it relative to the
// workspace in messages when it is inside it (".github/sandbox.yml:3:5").
func loadConfig(path, ws string) (*config.File, error) {
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

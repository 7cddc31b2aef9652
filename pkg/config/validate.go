package config

import (
	"errors"
	"fmt"
	"regexp"

	"go.yaml.in/yaml/v3"

	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/spec"
)

// envName is a portable environment variable name: what a shell can export
// and a workflow's env: block can set.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validator collects validation errors with the positions of their keys.
type validator struct {
	name string
	pos  map[string]*yaml.Node
	errs []error
}

func (v *validator) fail(key string, err error) {
	n := v.pos[key]
	if n == nil {
		v.errs = append(v.errs, fmt.Errorf("%s: %s: %w", v.name, key, err))
		return
	}
	v.errs = append(v.errs, posError(v.name, n, key, err))
}

// parse sets *dst from a non-empty string with a features parser, or
// records the parser's error at key.
func parse[T any](v *validator, key, s string, dst **T, parser func(string) (T, error)) {
	if s == "" {
		return
	}
	x, err := parser(s)
	if err != nil {
		v.fail(key, err)
		return
	}
	*dst = &x
}

// validate checks every value and builds the config layer.
func (f *File) validate(pos map[string]*yaml.Node) (features.Layer, error) {
	v := &validator{name: f.name, pos: pos}
	l := features.Layer{Type: f.Type, Bundle: f.Bundle}
	s := &l.Settings

	if f.Type != "" {
		if _, err := features.LookupType(f.Type); err != nil {
			v.fail("type", err)
		}
	}
	if f.Bundle != "" {
		if _, err := features.LookupBundle(f.Bundle); err != nil {
			v.fail("bundle", err)
		}
	}
	if f.Image != "" {
		s.Image = new(f.Image)
	}
	parse(v, "network.mode", f.Network.Mode, &s.Network, features.ParseNetwork)
	for i, h := range f.Network.Allow {
		if _, err := features.ParseAllow(h); err != nil {
			v.fail(fmt.Sprintf("network.allow[%d]", i), err)
		}
	}
	s.Allow = f.Network.Allow
	if f.Network.ModelBaseURL != "" {
		if err := egress.ValidateUpstream(f.Network.ModelBaseURL); err != nil {
			v.fail("network.model_base_url", err)
		}
	}
	parse(v, "limits.memory", f.Limits.Memory, &s.Memory, features.ParseMemory)
	parse(v, "limits.cpus", f.Limits.CPUs, &s.CPUs, features.ParseCPUs)
	if f.Limits.Pids != nil {
		if _, err := features.ParsePids(*f.Limits.Pids); err != nil {
			v.fail("limits.pids", err)
		}
		s.Pids = f.Limits.Pids
	}
	parse(v, "timeout", f.Timeout, &s.Timeout, features.ParseTimeout)
	parse(v, "user", f.User, &s.User, features.ParseUser)
	s.Relax = features.Relax{
		Root:          f.Relax.Root,
		WritableRoot:  f.Relax.WritableRoot,
		NewPrivileges: f.Relax.NewPrivileges,
		Capabilities:  f.Relax.Capabilities,
		NoInit:        f.Relax.NoInit,
		Ptrace:        f.Relax.Ptrace,
	}
	v.checkEnv(f.Env, f.Secrets)
	v.checkAgent(f.Agent)
	v.checkReview(f.Review)
	if err := errors.Join(v.errs...); err != nil {
		return features.Layer{}, err
	}
	return l, nil
}

// checkEnv checks the names passed into the sandbox: valid, not a
// credential that must stay out, and each listed once, as env or as secret.
func (v *validator) checkEnv(env, secrets []string) {
	seen := map[string]string{}
	for _, list := range []struct {
		key   string
		names []string
	}{{"env", env}, {"secrets", secrets}} {
		for i, name := range list.names {
			key := fmt.Sprintf("%s[%d]", list.key, i)
			switch {
			case !envName.MatchString(name):
				v.fail(key, fmt.Errorf("invalid variable name %q: want letters, digits and _, not starting with a digit", name))
			case spec.ForbiddenEnv(name):
				v.fail(key, fmt.Errorf("%s may not enter the sandbox: the action makes every GitHub write itself", name))
			case seen[name] != "":
				v.fail(key, fmt.Errorf("%s is already listed at %s", name, seen[name]))
			default:
				seen[name] = key
			}
		}
	}
}

func (v *validator) checkReview(r Review) {
	for _, b := range []struct {
		key string
		n   *int
	}{{"review.max_file_diff_bytes", r.MaxFileDiffBytes}, {"review.max_diff_bytes", r.MaxDiffBytes}} {
		if b.n != nil && *b.n < 1024 {
			v.fail(b.key, fmt.Errorf("must be at least 1024 bytes, got %d", *b.n))
		}
	}
}

func (v *validator) checkAgent(a Agent) {
	if a.MaxTurns != nil && *a.MaxTurns < 1 {
		v.fail("agent.max_turns", fmt.Errorf("must be at least 1, got %d", *a.MaxTurns))
	}
	for i, tool := range a.AllowedTools {
		if tool == "" {
			v.fail(fmt.Sprintf("agent.allowed_tools[%d]", i), errors.New("empty tool name"))
		}
	}
}

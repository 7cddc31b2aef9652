package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/org/sandbox-action/pkg/config"
	"github.com/org/sandbox-action/pkg/spec"
)

// environment gathers -e, --env-file, --secret and the config file's env
// and secrets, with docker's rules: "NAME" copies the variable from this
// environment and is dropped when unset; a secret that is unset is an error.
func (o *runOptions) environment(cfg *config.File) ([]spec.EnvVar, error) {
	var env []spec.EnvVar
	add := func(entry string, secret bool, source string) error {
		name, value, hasValue := strings.Cut(entry, "=")
		if name == "" {
			return fmt.Errorf("%s: empty variable name in %q", source, entry)
		}
		if !hasValue {
			v, ok := o.lookupEnv(name)
			if !ok {
				if secret {
					return fmt.Errorf("%s: secret %s is not set in this environment", source, name)
				}
				return nil
			}
			value = v
		}
		env = append(env, spec.EnvVar{Name: name, Value: value, Secret: secret})
		return nil
	}
	if cfg != nil {
		for _, n := range cfg.Env {
			if err := add(n, false, cfg.Name()); err != nil {
				return nil, err
			}
		}
		for _, n := range cfg.Secrets {
			if err := add(n, true, cfg.Name()); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range o.envFiles {
		lines, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if err := add(l, false, f); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range o.env {
		if err := add(e, false, "-e"); err != nil {
			return nil, err
		}
	}
	for _, n := range o.secrets {
		if strings.Contains(n, "=") {
			return nil, fmt.Errorf("--secret %s: give only the NAME; the value is read from this environment so it never appears on a command line", strings.SplitN(n, "=", 2)[0])
		}
		if err := add(n, true, "--secret"); err != nil {
			return nil, err
		}
	}
	return dedupeEnv(env), nil
}

// dedupeEnv keeps the last setting of each name, as docker does when a
// variable is given twice, at the position of its first appearance.
func dedupeEnv(env []spec.EnvVar) []spec.EnvVar {
	last := map[string]spec.EnvVar{}
	for _, e := range env {
		last[e.Name] = e
	}
	var out []spec.EnvVar
	seen := map[string]bool{}
	for _, e := range env {
		if !seen[e.Name] {
			seen[e.Name] = true
			out = append(out, last[e.Name])
		}
	}
	return out
}

// readEnvFile reads docker's env-file format: NAME=VALUE or NAME per line,
// blank lines and # comments ignored.
func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--env-file: %w", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, _, _ := strings.Cut(line, "="); strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("--env-file %s:%d: variable name %q contains whitespace", path, n, name)
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--env-file %s: %w", path, err)
	}
	return lines, nil
}

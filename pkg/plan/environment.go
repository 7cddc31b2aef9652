package plan

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/org/sandbox-action/pkg/config"
	"github.com/org/sandbox-action/pkg/spec"
)

// Environment gathers the request's -e entries, env files and secrets and
// the config file's env and secrets, with docker's rules: "NAME" copies the
// variable from the caller's environment and is dropped when unset; a
// secret that is unset is an error.
//
// Only a value written out as NAME=VALUE on the command line or in the
// config file is shown in the docker line `sandbox cmd` prints. Everything
// else is marked secret and shown as -e NAME: a value copied from the
// environment (docker copies it the same way), one read from an env file
// (where people keep keys so they stay off command lines) and secrets.
func Environment(req Request, cfg *config.File) ([]spec.EnvVar, error) {
	var env []spec.EnvVar
	// add reads one entry. A secret must be set; hidden values are never
	// shown (secrets, env file values, values copied from the environment).
	add := func(entry string, secret, hidden bool, source string) error {
		name, value, hasValue := strings.Cut(entry, "=")
		if name == "" {
			// Not the entry itself: its value may be a key.
			return fmt.Errorf("%s: empty variable name in an entry of the form NAME=VALUE", source)
		}
		if !hasValue {
			var v string
			var ok bool
			if req.LookupEnv != nil {
				v, ok = req.LookupEnv(name)
			}
			if !ok {
				if secret {
					return fmt.Errorf("%s: secret %s is not set in this environment", source, name)
				}
				return nil
			}
			value, hidden = v, true
		}
		env = append(env, spec.EnvVar{Name: name, Value: value, Secret: hidden})
		return nil
	}
	if cfg != nil {
		for _, n := range cfg.Env {
			if err := add(n, false, false, cfg.Name()); err != nil {
				return nil, err
			}
		}
		for _, n := range cfg.Secrets {
			if err := add(n, true, true, cfg.Name()); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range req.EnvFiles {
		lines, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if err := add(l, false, true, f); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range req.Env {
		if err := add(e, false, false, "-e"); err != nil {
			return nil, err
		}
	}
	for _, n := range req.Secrets {
		if strings.Contains(n, "=") {
			return nil, fmt.Errorf("--secret %s: give only the NAME; the value is read from this environment so it never appears on a command line", strings.SplitN(n, "=", 2)[0])
		}
		if err := add(n, true, true, "--secret"); err != nil {
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

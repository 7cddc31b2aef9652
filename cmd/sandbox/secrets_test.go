package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// `sandbox cmd` never prints a value that was not written on its own
// command line: not a secret, not a model key, not a value copied from the
// environment or read from an env file or a config file, in any mode, with
// or without an agent, and not in an error either.
func TestCmdNeverPrintsASecretValue(t *testing.T) {
	const value = "sk-value-never-printed-7d1e"
	env := map[string]string{"ANTHROPIC_API_KEY": value, "USER_TOKEN": value}
	envFile := filepath.Join(t.TempDir(), "env")
	assert.NilError(t, os.WriteFile(envFile, []byte("USER_TOKEN="+value+"\nANTHROPIC_API_KEY="+value+"\n"), 0o600))
	for _, path := range []struct {
		name   string
		args   []string
		config string
	}{
		{name: "--secret credential", args: []string{"--secret", "ANTHROPIC_API_KEY"}},
		{name: "--secret user variable", args: []string{"--secret", "USER_TOKEN"}},
		{name: "-e credential=value", args: []string{"-e", "ANTHROPIC_API_KEY=" + value}},
		{name: "-e credential", args: []string{"-e", "ANTHROPIC_API_KEY"}},
		{name: "-e copied user variable", args: []string{"-e", "USER_TOKEN"}},
		{name: "--env-file", args: []string{"--env-file", envFile}},
		{name: "config secrets", config: "secrets: [ANTHROPIC_API_KEY, USER_TOKEN]\n"},
		{name: "config env", config: "env: [ANTHROPIC_API_KEY, USER_TOKEN]\n"},
		{name: "error: empty name", args: []string{"-e", "=" + value}},
	} {
		for _, mode := range []string{"public", "private"} {
			for _, run := range [][]string{{"--agent", "claude", "--prompt", "hi"}, {"--", "make"}} {
				ws := t.TempDir()
				if path.config != "" {
					assert.NilError(t, os.MkdirAll(filepath.Join(ws, ".github"), 0o755))
					assert.NilError(t, os.WriteFile(filepath.Join(ws, ".github", "sandbox.yml"), []byte(path.config), 0o644))
				}
				args := append([]string{"cmd", "--image", "agents:1", "--workspace", ws, "--user", "1000:1000", "--network", mode}, path.args...)
				_, out, errOut := cli(context.Background(), env, append(args, run...)...)
				assert.Check(t, !strings.Contains(out+errOut, value), "%s, %s, %s: value printed:\n%s%s", path.name, mode, run[0], out, errOut)
			}
		}
	}
}

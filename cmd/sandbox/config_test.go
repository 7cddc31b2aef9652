package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testimage"
)

// writeConfig puts a .github/sandbox.yml into ws.
func writeConfig(t *testing.T, ws, yml string) {
	t.Helper()
	assert.NilError(t, os.MkdirAll(filepath.Join(ws, ".github"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(ws, ".github", "sandbox.yml"), []byte(yml), 0o644))
}

func TestConfigFileAndFlagsPrecedence(t *testing.T) {
	ws := workspace(t)
	writeConfig(t, ws, "image: "+testimage.Toolbox(t)+"\nlimits:\n  memory: 300m\n  pids: 99\nenv: [FROM_HOST]\nbundle: small\n")
	env := map[string]string{"FROM_HOST": "passed", "XDG_CONFIG_HOME": t.TempDir()}
	// env: copies a host value in, so the file must be trusted.
	code, _, errOut := cli(context.Background(), env, "trust", "--workspace", ws)
	assert.Equal(t, code, 0, errOut)
	code, out, errOut := cli(context.Background(), env, "cmd", "--workspace", ws, "--user", "1000:1000", "--network", "public", "--pids-limit", "77", "--", "/toolbox", "env")
	assert.Equal(t, code, 0, errOut)
	assert.Check(t, is.Contains(out, "--memory 300m"), "config beats bundle")
	assert.Check(t, is.Contains(out, "--pids-limit 77"), "flag beats config")
	assert.Check(t, is.Contains(out, "--cpus 1 "), "bundle beats default")
	assert.Check(t, is.Contains(out, "--label org.sandbox-action.bundle=small"))
	// A value copied from the environment is shown by name, as docker copies it.
	assert.Check(t, is.Contains(out, "-e FROM_HOST "))

	// The same settings reach a real run.
	code, out, errOut = cli(context.Background(), env, "run", "--workspace", ws, "--user", "1000:1000", "--network", "public", "--", "/toolbox", "env")
	assert.Equal(t, code, 0, errOut)
	assert.Check(t, is.Contains(out, "FROM_HOST=passed"))
	assert.Check(t, is.Contains(errOut, "memory=300m (from config .github/sandbox.yml)"))
	assert.Check(t, is.Contains(errOut, "bundle=small (from config .github/sandbox.yml)"))
}

func TestConfigFileErrorsNameTheLine(t *testing.T) {
	ws := workspace(t)
	writeConfig(t, ws, "image: x\nlimits:\n  memroy: 2g\n")
	code, _, errOut := cli(context.Background(), nil, "run", "--workspace", ws, "--", "x")
	assert.Equal(t, code, exitSandboxError)
	assert.Check(t, is.Contains(errOut, `sandbox.yml:3:3: unknown key "memroy" in limits`))

	code, _, errOut = cli(context.Background(), nil, "run", "--workspace", ws, "--config", filepath.Join(ws, "missing.yml"), "--", "x")
	assert.Equal(t, code, exitSandboxError)
	assert.Check(t, is.Contains(errOut, "missing.yml"))
}

func TestEnvFile(t *testing.T) {
	ws := workspace(t)
	f := filepath.Join(t.TempDir(), "env")
	assert.NilError(t, os.WriteFile(f, []byte("# comment\nA=1\n\nB\nC=x=y\n"), 0o644))
	code, out, errOut := cli(context.Background(), map[string]string{"B": "from-host"}, toolboxArgs(t, ws, "--env-file", f, "-e", "A=2", "--", "/toolbox", "env")...)
	assert.Equal(t, code, 0, errOut)
	assert.Check(t, is.Contains(out, "A=2\n"), "-e beats --env-file")
	assert.Check(t, is.Contains(out, "B=from-host\n"))
	assert.Check(t, is.Contains(out, "C=x=y\n"))

	assert.NilError(t, os.WriteFile(f, []byte("BAD NAME=1\n"), 0o644))
	code, _, errOut = cli(context.Background(), nil, toolboxArgs(t, ws, "--env-file", f, "--", "/toolbox", "env")...)
	assert.Equal(t, code, exitSandboxError)
	assert.Check(t, is.Contains(errOut, ":1: variable name"))
}

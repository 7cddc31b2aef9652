package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/config"
)

// weakening is a config a sandbox run could write to get the next run as
// root with capabilities and a host variable copied in.
const weakening = "user: \"0:0\"\nrelax: {root: true, capabilities: true, new_privileges: true, writable_root: true}\n" +
	"env: [SOME_HOST_SECRET]\nnetwork: {mode: public}\n"

func TestUntrustedConfigFailsWithTheCommandToTrustIt(t *testing.T) {
	ws := workspace(t)
	writeConfig(t, ws, "image: "+testimage.Toolbox(t)+"\n"+weakening)
	env := map[string]string{"XDG_CONFIG_HOME": t.TempDir(), "SOME_HOST_SECRET": "host-value"}
	fix := "sandbox trust --workspace " + ws

	for _, sub := range []string{"run", "cmd"} {
		code, out, errOut := cli(context.Background(), env, sub, "--workspace", ws, "--", "/toolbox", "id")
		assert.Check(t, is.Equal(code, exitSandboxError), "%s: %s", sub, errOut)
		assert.Check(t, is.Contains(errOut, ".github/sandbox.yml sets network.mode, user, env, "+
			"relax.root, relax.writable_root, relax.new_privileges, relax.capabilities, which weaken the sandbox"), sub)
		assert.Check(t, is.Contains(errOut, "run: "+fix+"\n"), sub)
		assert.Check(t, !strings.Contains(out+errOut, "host-value"), sub)
	}

	// sandbox trust shows what the file allows, then the settings apply.
	code, out, errOut := cli(context.Background(), env, "trust", "--workspace", ws)
	assert.Equal(t, code, 0, errOut)
	for _, want := range []string{"relax.root: true", "lets the sandbox run as root", "env: [SOME_HOST_SECRET]",
		"copies these variables from your environment", "network.mode: public", "Trusted this content (sha256:"} {
		assert.Check(t, is.Contains(out, want))
	}
	code, out, errOut = cli(context.Background(), env, "cmd", "--workspace", ws, "--", "/toolbox", "id")
	assert.Equal(t, code, 0, errOut)
	assert.Check(t, is.Contains(out, "--user 0:0"))
	assert.Check(t, is.Contains(out, "-e SOME_HOST_SECRET"))

	// A changed file must be trusted again.
	writeConfig(t, ws, "image: "+testimage.Toolbox(t)+"\n"+weakening+"secrets: [ANTHROPIC_API_KEY]\n")
	code, _, errOut = cli(context.Background(), env, "cmd", "--workspace", ws, "--", "/toolbox", "id")
	assert.Check(t, is.Equal(code, exitSandboxError))
	assert.Check(t, is.Contains(errOut, "secrets"))
}

func TestHarmlessConfigAppliesUntrusted(t *testing.T) {
	ws := workspace(t)
	writeConfig(t, ws, "image: "+testimage.Toolbox(t)+"\nlimits: {memory: 300m, pids: 99}\nbundle: small\ntimeout: 5m\nrelax: {root: false}\n")
	code, out, errOut := cli(context.Background(), map[string]string{"XDG_CONFIG_HOME": t.TempDir()},
		"cmd", "--workspace", ws, "--user", "1000:1000", "--", "/toolbox", "id")
	assert.Equal(t, code, 0, errOut)
	assert.Check(t, is.Contains(out, "--memory 300m"))
	assert.Check(t, is.Contains(out, "--pids-limit 99"))
}

func TestTrustRefusesAConfigSymlinkedOutOfTheWorkspace(t *testing.T) {
	ws := workspace(t)
	host := filepath.Join(t.TempDir(), "host.yml")
	assert.NilError(t, os.WriteFile(host, []byte(weakening), 0o644))
	assert.NilError(t, os.MkdirAll(filepath.Join(ws, ".github"), 0o755))
	assert.NilError(t, os.Symlink(host, filepath.Join(ws, config.DefaultPath)))
	env := map[string]string{"XDG_CONFIG_HOME": t.TempDir()}
	for _, args := range [][]string{{"trust", "--workspace", ws}, {"cmd", "--workspace", ws, "--", "x"}} {
		code, _, errOut := cli(context.Background(), env, args...)
		assert.Check(t, is.Equal(code, exitSandboxError), args[0])
		assert.Check(t, is.Contains(errOut, "outside the workspace; refusing to follow it"), args[0])
	}
}

// TestSandboxWritingTheConfigDoesNotWeakenTheNextRun: a real sandbox writes
// a weakening .github/sandbox.yml over a trusted one; the next run on the
// tree refuses to start instead of running as root.
func TestSandboxWritingTheConfigDoesNotWeakenTheNextRun(t *testing.T) {
	ws := workspace(t)
	image := testimage.Toolbox(t)
	env := map[string]string{"XDG_CONFIG_HOME": t.TempDir(), "SOME_HOST_SECRET": "host-value"}
	writeConfig(t, ws, "image: "+image+"\nenv: [CI]\n")
	assert.NilError(t, os.Chmod(filepath.Join(ws, ".github"), 0o777))
	assert.NilError(t, os.Chmod(filepath.Join(ws, config.DefaultPath), 0o666))
	code, _, errOut := cli(context.Background(), env, "trust", "--workspace", ws)
	assert.Equal(t, code, 0, errOut)

	code, _, errOut = cli(context.Background(), env, "run", "--workspace", ws, "--user", "1000:1000", "--network", "public", "--",
		"/toolbox", "write", "/workspace/.github/sandbox.yml", "image: "+image+"\n"+weakening)
	assert.Equal(t, code, 0, "the sandbox could not write its config: %s", errOut)

	code, out, errOut := cli(context.Background(), env, "run", "--workspace", ws, "--", "/toolbox", "id")
	assert.Check(t, is.Equal(code, exitSandboxError), "the next run started: %s %s", out, errOut)
	assert.Check(t, !strings.Contains(out, "0:0"), "the next run ran as root")
	assert.Check(t, is.Contains(errOut, "relax.root"))
	assert.Check(t, is.Contains(errOut, "sandbox trust --workspace "+ws))
}

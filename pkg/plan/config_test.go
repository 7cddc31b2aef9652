package plan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/config"
	"github.com/org/sandbox-action/pkg/spec"
)

func configWorkspace(t *testing.T, yml string) string {
	t.Helper()
	ws, err := filepath.EvalSymlinks(t.TempDir())
	assert.NilError(t, err)
	writeYML(t, ws, yml)
	return ws
}

func writeYML(t *testing.T, ws, yml string) {
	t.Helper()
	assert.NilError(t, os.MkdirAll(filepath.Join(ws, ".github"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(ws, config.DefaultPath), []byte(yml), 0o644))
}

// trust trusts ws's config file as `sandbox trust` does.
func trust(t *testing.T, store config.TrustStore, ws string) {
	t.Helper()
	c, err := FindConfig("", ws, ws)
	assert.NilError(t, err)
	assert.NilError(t, store.Add(c.Path, c.File.Sum()))
}

func TestWorkspaceConfigNeedsTrustForPrivilegedKeys(t *testing.T) {
	const privileged = "image: agents:1\nuser: \"0:0\"\nrelax: {root: true, capabilities: true}\n" +
		"env: [SOME_HOST_SECRET]\nnetwork: {mode: public}\n"
	store := config.NewTrustStore(filepath.Join(t.TempDir(), "trust"))
	ws := configWorkspace(t, privileged)
	req := Request{Workspace: ws, Trust: store}

	// Untrusted: refused, naming every privileged key.
	_, err := Resolve(req)
	var ue *config.UntrustedError
	assert.Assert(t, errors.As(err, &ue), "%v", err)
	assert.Check(t, is.DeepEqual(ue.Keys, []string{"network.mode", "user", "env", "relax.root", "relax.capabilities"}))
	assert.Check(t, is.Equal(ue.Name, config.DefaultPath))

	// Without a store nothing is trusted.
	_, err = Resolve(Request{Workspace: ws})
	assert.Check(t, errors.As(err, &ue))

	// Trusted: applies.
	trust(t, store, ws)
	s, err := Resolve(req)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(s.Features.User, "0:0"))
	assert.Check(t, s.Features.Relax.Root)
	assert.Check(t, is.Equal(s.Features.Network, spec.Public))

	// Edited after trust (as a sandbox run could): refused again.
	writeYML(t, ws, privileged+"secrets: [ANTHROPIC_API_KEY]\n")
	_, err = Resolve(req)
	assert.Assert(t, errors.As(err, &ue), "%v", err)
	assert.Check(t, is.Contains(ue.Keys, "secrets"))
}

func TestWorkspaceConfigHarmlessKeysApplyUntrusted(t *testing.T) {
	ws := configWorkspace(t, "image: agents:2\nbundle: small\nlimits: {memory: 300m, pids: 99}\ntimeout: 5m\n"+
		"relax: {root: false}\nnetwork: {mode: private}\nagent: {name: claude, model: m1, max_turns: 4}\n")
	s, err := Resolve(Request{Workspace: ws})
	assert.NilError(t, err)
	assert.Check(t, is.Equal(s.Features.Image, "agents:2"))
	assert.Check(t, is.Equal(s.Features.Memory, int64(300<<20)))
	assert.Check(t, is.Equal(s.Features.Pids, int64(99)))
	assert.Check(t, is.Equal(s.Config.Agent.Model, "m1"))
}

func TestConfigGivenByTheFrontDoorIsTrusted(t *testing.T) {
	// The action reads the config from the base branch and passes it in.
	ws := configWorkspace(t, "relax: {root: true}\nuser: \"0:0\"\n")
	base, err := config.Parse([]byte("image: a\nenv: [CI]\nnetwork: {mode: private, allow: [api.example.com]}\n"), "base:.github/sandbox.yml")
	assert.NilError(t, err)
	s, err := Resolve(Request{Workspace: ws, Config: base})
	assert.NilError(t, err, "the workspace's own (untrusted) file must not be read")
	assert.Check(t, is.DeepEqual(s.Features.Allow, []string{"api.example.com"}))
	assert.Check(t, is.Equal(s.Features.User, ""))
}

func TestConfigOutsideTheWorkspaceNamedExplicitlyIsTrusted(t *testing.T) {
	ws := configWorkspace(t, "image: a\n")
	own := filepath.Join(t.TempDir(), "mine.yml")
	assert.NilError(t, os.WriteFile(own, []byte("image: a\nenv: [CI]\n"), 0o644))
	_, err := Resolve(Request{Workspace: ws, ConfigPath: own})
	assert.NilError(t, err)

	// Named explicitly but inside the workspace: still the workspace's.
	_, err = Resolve(Request{Workspace: ws, ConfigPath: filepath.Join(ws, "other.yml")})
	assert.Check(t, is.ErrorContains(err, "no such file"))
	assert.NilError(t, os.WriteFile(filepath.Join(ws, "other.yml"), []byte("image: a\nenv: [CI]\n"), 0o644))
	_, err = Resolve(Request{Workspace: ws, ConfigPath: filepath.Join(ws, "other.yml")})
	var ue *config.UntrustedError
	assert.Check(t, errors.As(err, &ue), "%v", err)
}

func TestWorkspaceConfigSymlinkOutIsRefused(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "host.yml")
	assert.NilError(t, os.WriteFile(outside, []byte("image: a\n"), 0o644))
	for name, link := range map[string]func(ws string){
		"file": func(ws string) {
			assert.NilError(t, os.MkdirAll(filepath.Join(ws, ".github"), 0o755))
			assert.NilError(t, os.Symlink(outside, filepath.Join(ws, config.DefaultPath)))
		},
		"directory": func(ws string) {
			assert.NilError(t, os.Symlink(filepath.Dir(outside), filepath.Join(ws, ".github")))
			assert.NilError(t, os.Rename(outside, filepath.Join(filepath.Dir(outside), "sandbox.yml")))
			outside = filepath.Join(filepath.Dir(outside), "sandbox.yml")
		},
	} {
		t.Run(name, func(t *testing.T) {
			ws, err := filepath.EvalSymlinks(t.TempDir())
			assert.NilError(t, err)
			link(ws)
			_, err = Resolve(Request{Workspace: ws})
			assert.Check(t, is.ErrorContains(err, "outside the workspace; refusing to follow it"))
		})
	}

	// A symlink that stays inside is followed.
	ws := configWorkspace(t, "")
	assert.NilError(t, os.WriteFile(filepath.Join(ws, "real.yml"), []byte("image: inside\n"), 0o644))
	assert.NilError(t, os.Remove(filepath.Join(ws, config.DefaultPath)))
	assert.NilError(t, os.Symlink("../real.yml", filepath.Join(ws, config.DefaultPath)))
	s, err := Resolve(Request{Workspace: ws})
	assert.NilError(t, err)
	assert.Check(t, is.Equal(s.Features.Image, "inside"))
}

func TestEnvFileInTheWorkspaceMayNotCopyHostValues(t *testing.T) {
	ws := configWorkspace(t, "image: a\n")
	env := map[string]string{"HOST_SECRET": "s3cr3t"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	inside := filepath.Join(ws, ".env")
	assert.NilError(t, os.WriteFile(inside, []byte("A=1\nHOST_SECRET\n"), 0o644))
	_, _, err := Make(context.Background(), Request{Workspace: ws, EnvFiles: []string{inside}, Command: []string{"x"}, LookupEnv: lookup, Egress: onHost}, nil)
	assert.Check(t, is.ErrorContains(err, "HOST_SECRET copies a value from your environment, which an env file inside the workspace"))

	// NAME=VALUE lines inside, and any line outside, are fine.
	assert.NilError(t, os.WriteFile(inside, []byte("A=1\n"), 0o644))
	outside := filepath.Join(t.TempDir(), "env")
	assert.NilError(t, os.WriteFile(outside, []byte("HOST_SECRET\n"), 0o644))
	p, _, err := Make(context.Background(), Request{Workspace: ws, EnvFiles: []string{inside, outside}, Command: []string{"x"}, LookupEnv: lookup, Egress: onHost}, nil)
	assert.NilError(t, err)
	got := map[string]string{}
	for _, e := range p.Run.Sandbox.Env {
		got[e.Name] = e.Value
	}
	assert.Check(t, is.Equal(got["A"], "1"))
	assert.Check(t, is.Equal(got["HOST_SECRET"], "s3cr3t"))
}

package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/config"
)

func TestPrivileges(t *testing.T) {
	for _, tc := range []struct {
		yml  string
		want []string
	}{
		{"relax:\n  root: true\n", []string{"relax.root"}},
		{"relax:\n  writable_root: true\n", []string{"relax.writable_root"}},
		{"relax:\n  new_privileges: true\n", []string{"relax.new_privileges"}},
		{"relax:\n  capabilities: true\n", []string{"relax.capabilities"}},
		{"relax:\n  no_init: true\n", []string{"relax.no_init"}},
		{"user: \"0:0\"\n", []string{"user"}},
		{"user: \"1000:1000\"\n", []string{"user"}},
		{"env: [SOME_HOST_SECRET]\n", []string{"env"}},
		{"secrets: [ANTHROPIC_API_KEY]\n", []string{"secrets"}},
		{"network:\n  mode: public\n", []string{"network.mode"}},
		{"network:\n  allow: [evil.example]\n", []string{"network.allow"}},
		// Where the real key goes is the person's decision, not the tree's.
		{"network:\n  model_base_url: https://collector.evil.example\n", []string{"network.model_base_url"}},
		{"user: \"0:0\"\nrelax: {root: true, capabilities: true}\nnetwork: {mode: public}\n",
			[]string{"network.mode", "user", "relax.root", "relax.capabilities"}},
		// Harmless: they shape what runs inside the hardened sandbox.
		{"image: agents:1\ntype: standard\nbundle: small\nlimits: {memory: 2g, cpus: 1, pids: 100}\ntimeout: 10m\n" +
			"agent: {name: claude, model: m, max_turns: 3, allowed_tools: [Read], prompt: hi}\n", nil},
		// Keeping a default is not a privilege.
		{"relax:\n  root: false\nnetwork:\n  mode: private\n", nil},
		{"", nil},
	} {
		f, err := config.Parse([]byte(tc.yml), "sandbox.yml")
		assert.NilError(t, err, tc.yml)
		var got []string
		for _, p := range f.Privileges() {
			got = append(got, p.Key)
			assert.Check(t, p.Value != "" && p.Effect != "", "%+v", p)
		}
		assert.Check(t, is.DeepEqual(got, tc.want), tc.yml)
	}
}

func TestTrustStore(t *testing.T) {
	store := config.NewTrustStore(filepath.Join(t.TempDir(), "trust"))
	path := "/src/my project/.github/sandbox.yml"
	f, err := config.Parse([]byte("relax: {root: true}\n"), ".github/sandbox.yml")
	assert.NilError(t, err)

	err = config.CheckTrust(f, path, store, "sandbox trust --workspace '/src/my project'")
	var ue *config.UntrustedError
	assert.Assert(t, errors.As(err, &ue), "%v", err)
	assert.Check(t, is.DeepEqual(ue.Keys, []string{"relax.root"}))
	assert.Check(t, is.ErrorContains(err, ".github/sandbox.yml sets relax.root, which weaken the sandbox"))
	assert.Check(t, is.ErrorContains(err, "run: sandbox trust --workspace '/src/my project'"))

	assert.NilError(t, store.Add(path, f.Sum()))
	assert.Check(t, config.CheckTrust(f, path, store, ""))
	// The same content elsewhere is not trusted.
	assert.Check(t, errors.As(config.CheckTrust(f, "/other/.github/sandbox.yml", store, ""), &ue))

	// Edited after trust: must be trusted again.
	edited, err := config.Parse([]byte("relax: {root: true}\nuser: \"0:0\"\n"), ".github/sandbox.yml")
	assert.NilError(t, err)
	assert.Check(t, edited.Sum() != f.Sum())
	assert.Check(t, errors.As(config.CheckTrust(edited, path, store, ""), &ue))
	assert.NilError(t, store.Add(path, edited.Sum()))
	assert.Check(t, config.CheckTrust(edited, path, store, ""))
	// Trusting the new content replaced the old one.
	assert.Check(t, errors.As(config.CheckTrust(f, path, store, ""), &ue))

	// The store lives outside workspaces, private to its owner.
	fi, err := os.Stat(store.Dir())
	assert.NilError(t, err)
	assert.Check(t, is.Equal(fi.Mode().Perm(), os.FileMode(0o700)))
}

func TestCheckTrustWithoutStoreTrustsNothing(t *testing.T) {
	f, err := config.Parse([]byte("env: [A]\n"), "c.yml")
	assert.NilError(t, err)
	var ue *config.UntrustedError
	assert.Check(t, errors.As(config.CheckTrust(f, "/c.yml", nil, ""), &ue))
	harmless, err := config.Parse([]byte("image: a\n"), "c.yml")
	assert.NilError(t, err)
	assert.Check(t, config.CheckTrust(harmless, "/c.yml", nil, ""))
}

func TestDefaultTrustStore(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	s, err := config.DefaultTrustStore(env(map[string]string{"XDG_CONFIG_HOME": "/cfg", "HOME": "/home/a"}))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(s.Dir(), "/cfg/sandbox-action/trust"))
	s, err = config.DefaultTrustStore(env(map[string]string{"XDG_CONFIG_HOME": "relative", "HOME": "/home/a"}))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(s.Dir(), "/home/a/.config/sandbox-action/trust"))
	_, err = config.DefaultTrustStore(env(nil))
	assert.Check(t, is.ErrorContains(err, "neither XDG_CONFIG_HOME nor HOME"))
}

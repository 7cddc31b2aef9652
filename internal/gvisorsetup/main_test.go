package main

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/gvisor"
)

func TestRegisterCreatesMergesAndKeepsMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "docker", "daemon.json")
	rs := gvisor.Recommended("/usr/bin/runsc")

	changed, err := register(path, rs)
	assert.NilError(t, err)
	assert.DeepEqual(t, changed, []string{gvisor.Isolated, gvisor.Bridged})
	st, err := os.Stat(path)
	assert.NilError(t, err)
	assert.Equal(t, st.Mode().Perm(), os.FileMode(0o644))

	assert.NilError(t, os.WriteFile(path, []byte(`{"mtu": 1400}`), 0o600))
	assert.NilError(t, os.Chmod(path, 0o600))
	changed, err = register(path, rs)
	assert.NilError(t, err)
	assert.Equal(t, len(changed), 2)
	data, err := os.ReadFile(path)
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(data), `"mtu": 1400`))
	st, err = os.Stat(path)
	assert.NilError(t, err)
	assert.Equal(t, st.Mode().Perm(), os.FileMode(0o600))

	changed, err = register(path, rs)
	assert.NilError(t, err)
	assert.Check(t, is.Len(changed, 0))
	again, err := os.ReadFile(path)
	assert.NilError(t, err)
	assert.Equal(t, string(again), string(data))

	entries, err := os.ReadDir(filepath.Dir(path))
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 1, "temporary files left: %v", entries)
}

func TestRegisterLeavesABrokenFileAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "daemon.json")
	broken := []byte("{\"mtu\": 1400,\n")
	assert.NilError(t, os.WriteFile(path, broken, 0o644))
	_, err := register(path, gvisor.Recommended("/usr/bin/runsc"))
	assert.ErrorContains(t, err, path+": not a JSON object")
	assert.ErrorContains(t, err, "nothing was changed")
	data, err := os.ReadFile(path)
	assert.NilError(t, err)
	assert.Equal(t, string(data), string(broken))
}

func TestFindRunsc(t *testing.T) {
	_, err := findRunsc(filepath.Join(t.TempDir(), "runsc"))
	assert.ErrorContains(t, err, "runsc --version")

	t.Setenv("PATH", t.TempDir())
	_, err = findRunsc("")
	assert.ErrorContains(t, err, "runsc is not installed (Debian: apt-get install runsc")
}

package gvisor

import (
	"encoding/json"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"
)

// A daemon.json as found on these machines, with a runtime of its own.
const existing = `{"data-root": "/var/lib/docker", "storage-driver": "fuse-overlayfs", "mtu": 1400,
 "log-opts": {"max-size": "10m", "max-file": "3"},
 "runtimes": {"crun": {"path": "/usr/bin/crun"}},
 "default-runtime": "runc"}`

func TestMergeKeepsEverythingElse(t *testing.T) {
	out, changed, err := Merge([]byte(existing), Recommended(DefaultPath))
	assert.NilError(t, err)
	assert.DeepEqual(t, changed, []string{Isolated, Bridged})
	golden.Assert(t, string(out), "merged.golden")

	var before, after map[string]any
	assert.NilError(t, json.Unmarshal([]byte(existing), &before))
	assert.NilError(t, json.Unmarshal(out, &after))
	for k, v := range before {
		if k != "runtimes" {
			assert.Check(t, is.DeepEqual(after[k], v), "setting %q", k)
		}
	}
	assert.Check(t, is.DeepEqual(after["runtimes"].(map[string]any)["crun"], map[string]any{"path": "/usr/bin/crun"}))

	// Idempotent: a second merge changes nothing, byte for byte.
	again, changed, err := Merge(out, Recommended(DefaultPath))
	assert.NilError(t, err)
	assert.Check(t, is.Len(changed, 0))
	assert.Check(t, is.Equal(string(again), string(out)))
}

func TestMergeReplacesOnlyWhatDiffers(t *testing.T) {
	doc := `{"runtimes": {
		"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none", "--host-uds=open", "--oci-seccomp"]},
		"runsc-host": {"path": "/usr/local/bin/runsc"}}}`
	out, changed, err := Merge([]byte(doc), Recommended(DefaultPath))
	assert.NilError(t, err)
	assert.DeepEqual(t, changed, []string{Bridged})
	var got struct{ Runtimes map[string]registration }
	assert.NilError(t, json.Unmarshal(out, &got))
	assert.DeepEqual(t, got.Runtimes[Bridged], registration{Path: DefaultPath, Args: []string{"--network=host", "--host-uds=open", "--oci-seccomp"}})

	// An entry with more than path and arguments (a shim's options) is not ours.
	doc = `{"runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none", "--host-uds=open", "--oci-seccomp"], "options": {"x": 1}}}}`
	_, changed, err = Merge([]byte(doc), Recommended(DefaultPath)[:1])
	assert.NilError(t, err)
	assert.DeepEqual(t, changed, []string{Isolated})
}

func TestMergeIntoNothing(t *testing.T) {
	for _, data := range []string{"", " \n"} {
		out, changed, err := Merge([]byte(data), Recommended(DefaultPath)[:1])
		assert.NilError(t, err)
		assert.DeepEqual(t, changed, []string{Isolated})
		golden.Assert(t, string(out), "fresh.golden")
	}
}

func TestMergeRefusesWhatItCannotKeep(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`["runtimes"]`, "not a JSON object: json: cannot unmarshal array"},
		{`null`, "not a JSON object: null"},
		{`{"mtu": 1400,}`, "not a JSON object: invalid character '}'"},
		{`{"runtimes": []}`, `"runtimes" is not a JSON object: []`},
		{`{"runtimes": null}`, `"runtimes" is not a JSON object: null`},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			out, _, err := Merge([]byte(tc.doc), Recommended(DefaultPath))
			assert.ErrorContains(t, err, tc.want)
			assert.Check(t, is.Nil(out))
		})
	}
}

package github

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// payload loads a testdata payload and applies edits to a copy of it in
// memory: each edit sets the value at a dotted path ("comment.body"), or
// deletes the key when the value is del.
func payload(t *testing.T, name string, edits ...edit) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	assert.NilError(t, err)
	if len(edits) == 0 {
		return b
	}
	var doc map[string]any
	assert.NilError(t, json.Unmarshal(b, &doc))
	for _, e := range edits {
		keys := strings.Split(e.path, ".")
		m := doc
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		last := keys[len(keys)-1]
		if e.value == del {
			delete(m, last)
		} else {
			m[last] = e.value
		}
	}
	out, err := json.Marshal(doc)
	assert.NilError(t, err)
	return out
}

type edit struct {
	path  string
	value any
}

type deletion struct{}

var del any = deletion{}

func set(path string, value any) edit { return edit{path, value} }

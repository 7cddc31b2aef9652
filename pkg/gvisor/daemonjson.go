package gvisor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// registration is a runtime's entry under "runtimes" in daemon.json.
type registration struct {
	Path string   `json:"path"`
	Args []string `json:"runtimeArgs,omitempty"`
}

// Merge adds rs to the "runtimes" of the daemon.json document data (empty
// when there is no file yet) and returns the new document and the names of
// the runtimes it added or replaced; none means data already registers rs
// exactly. Every other setting and every other runtime is kept as it is;
// only the order of keys may change. A document that is not a JSON object,
// or whose "runtimes" is not one, is an error and nothing is merged.
func Merge(data []byte, rs []Runtime) ([]byte, []string, error) {
	doc := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, nil, fmt.Errorf("not a JSON object: %w", err)
		}
		if doc == nil { // the document was `null`
			return nil, nil, errors.New("not a JSON object: null")
		}
	}
	runtimes := map[string]json.RawMessage{}
	if raw, ok := doc["runtimes"]; ok {
		if err := json.Unmarshal(raw, &runtimes); err != nil || runtimes == nil {
			return nil, nil, fmt.Errorf("\"runtimes\" is not a JSON object: %s", raw)
		}
	}
	var changed []string
	for _, r := range rs {
		want, err := json.Marshal(registration{Path: r.Path, Args: r.Args})
		if err != nil {
			return nil, nil, err
		}
		if raw, ok := runtimes[r.Name]; ok && sameRegistration(raw, want) {
			continue
		}
		runtimes[r.Name] = want
		changed = append(changed, r.Name)
	}
	if len(changed) == 0 && len(data) > 0 {
		return data, nil, nil
	}
	var err error
	if doc["runtimes"], err = json.Marshal(runtimes); err != nil {
		return nil, nil, err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return append(out, '\n'), changed, nil
}

// sameRegistration reports whether an existing entry says exactly what want
// says, with nothing else in it.
func sameRegistration(raw, want json.RawMessage) bool {
	var have map[string]json.RawMessage
	if json.Unmarshal(raw, &have) != nil {
		return false
	}
	var got registration
	if json.Unmarshal(raw, &got) != nil {
		return false
	}
	for k := range have {
		if k != "path" && k != "runtimeArgs" {
			return false
		}
	}
	var w registration
	_ = json.Unmarshal(want, &w)
	return got.Path == w.Path && slices.Equal(got.Args, w.Args)
}

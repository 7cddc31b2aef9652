package egress

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/golden"
)

// A client inventing host names cannot grow the table without bound.
func TestRecorderBoundsHostTable(t *testing.T) {
	rec, _ := newTestRecorder()
	for i := range maxKeys + 10 {
		rec.Record(Event{Component: componentProxy, Host: fmt.Sprintf("h%d.example.com", i), Decision: Deny})
	}
	st := rec.Stats()
	assert.Equal(t, len(st.Proxy.Hosts), maxKeys+1)
	assert.Equal(t, st.Proxy.Hosts[keyOther].Denied, int64(10))
	assert.Equal(t, st.Proxy.Denied, int64(maxKeys+10))
}

func TestStatsJSON(t *testing.T) {
	rec, _ := newTestRecorder()
	rec.Record(Event{Component: componentProxy, Host: "api.example.com", Decision: Allow, Bytes: 10})
	rec.Record(Event{Component: componentProxy, Decision: Deny})
	rec.Record(Event{Component: componentGateway, Host: "anthropic", Decision: Deny})
	b, err := json.Marshal(rec.Stats())
	assert.NilError(t, err)
	// The run summary reads this line; its shape is a contract.
	golden.Assert(t, string(b)+"\n", "stats.golden")

	// A snapshot does not change when recording goes on.
	snap := rec.Stats()
	rec.Record(Event{Component: componentProxy, Host: "api.example.com", Decision: Allow})
	assert.Equal(t, snap.Proxy.Hosts["api.example.com"].Allowed, int64(1))
}

func TestRecorderTruncatesLongPaths(t *testing.T) {
	rec, logs := newTestRecorder()
	rec.Record(Event{Component: componentGateway, Host: "anthropic", Path: "/anthropic/" + strings.Repeat("a", 5000), Decision: Deny})
	path := logs.events(t)[0]["path"].(string)
	assert.Equal(t, len(path), maxLoggedPath+len("..."))
	assert.Assert(t, strings.HasPrefix(path, "/anthropic/aaa"))
}

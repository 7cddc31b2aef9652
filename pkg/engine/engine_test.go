package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/spec"
)

// newTestEngine returns an engine on the real daemon, and the raw client
// for assertions. It shares the default lock directory with every other
// process, so `sandbox gc` run elsewhere sees these runs as alive.
func newTestEngine(t *testing.T) (*Engine, *client.Client) {
	t.Helper()
	c := testimage.NewClient(t)
	return New(c), c
}

// testSpec is a hardened public-mode run of the toolbox image.
func testSpec(t *testing.T, args ...string) spec.RunSpec {
	t.Helper()
	id := randomID(t)
	ws := t.TempDir()
	// The sandbox user is not root, so it needs the right to write here.
	assert.NilError(t, os.Chmod(ws, 0o777))
	return spec.RunSpec{
		RunID:     id,
		Name:      "sbxtest-" + id,
		Image:     testimage.Toolbox(t),
		Command:   append([]string{"/toolbox"}, args...),
		Workspace: ws,
		User:      "1000:1000",
		Network:   spec.Network{Mode: spec.Public},
		Limits:    spec.Limits{MemoryBytes: 256 << 20, PidsLimit: 64, NanoCPUs: 1e9},
		Remove:    true,
		CreatedBy: "test",
	}
}

func randomID(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	_, err := rand.Read(b)
	assert.NilError(t, err)
	return hex.EncodeToString(b)
}

// assertNothingLeft fails when any container or network of the run remains.
func assertNothingLeft(t *testing.T, c *client.Client, runID string) {
	t.Helper()
	f := client.Filters{}.Add("label", spec.LabelRunID+"="+runID)
	cs, err := c.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
	assert.NilError(t, err)
	assert.Equal(t, len(cs.Items), 0, "containers left behind by run %s", runID)
	ns, err := c.NetworkList(context.Background(), client.NetworkListOptions{Filters: f})
	assert.NilError(t, err)
	assert.Equal(t, len(ns.Items), 0, "networks left behind by run %s", runID)
	vs, err := c.VolumeList(context.Background(), client.VolumeListOptions{Filters: f})
	assert.NilError(t, err)
	assert.Equal(t, len(vs.Items), 0, "volumes left behind by run %s", runID)
}

// lineWriter collects output and signals when a given text has arrived.
type lineWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want []byte
	seen chan struct{}
	once sync.Once
}

func newLineWriter(want string) *lineWriter {
	return &lineWriter{want: []byte(want), seen: make(chan struct{})}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if len(w.want) > 0 && bytes.Contains(w.buf.Bytes(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitSeen waits for the wanted text, failing after d.
func (w *lineWriter) waitSeen(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-w.seen:
	case <-time.After(d):
		t.Fatalf("did not see %q within %s; got %q", w.want, d, w.String())
	}
}

// needRoot is for a test that acts as other users. Outside CI it is
// skipped when not run as root; CI runs the tests as root (.ci/run, the
// workflows), so there it fails instead.
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s, and CI runs the tests as root", why)
	}
	t.Skip(why)
}

package engine

import (
	"context"
	"sync"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/internal/testimage"
	"github.com/org/sandbox-action/pkg/features"
	"github.com/org/sandbox-action/pkg/gvisor"
	"github.com/org/sandbox-action/pkg/spec"
)

// An isolation is one OCI runtime the isolation tests run under. The tests
// that matter for isolation (hardening, exit codes, OOM, timeout, signals,
// cleanup) are a matrix over runc and gVisor: the same table, each row
// once per runtime.
type isolation struct {
	name    string // the subtest's name
	runtime string // spec.RunSpec.Runtime; empty is the daemon's default, runc
	// args are the runtime's arguments as the daemon registers them.
	args []string
}

var registered struct {
	once     sync.Once
	runtimes []gvisor.Runtime
	err      error
}

// isolations returns runc and the gVisor runtime `--type gvisor` takes for
// a sandbox in network mode m. gVisor must be registered (`make gvisor`,
// which .ci/run runs): without it the test fails, as without Docker.
func isolations(t *testing.T, m spec.NetworkMode) []isolation {
	t.Helper()
	registered.once.Do(func() {
		h, err := New(testimage.NewClient(t)).Host(context.Background())
		registered.runtimes, registered.err = h.Runtimes, err
	})
	assert.NilError(t, registered.err)
	rt, err := gvisor.Pick(registered.runtimes, features.RuntimeNeed(m, false))
	assert.NilError(t, err, "gVisor is part of the test matrix: run `make gvisor`")
	return []isolation{{name: "runc"}, {name: "gvisor", runtime: rt.Name, args: rt.Args}}
}

// eachIsolation runs f once per isolation of a public sandbox, as subtests.
func eachIsolation(t *testing.T, f func(t *testing.T, iso isolation)) {
	t.Helper()
	for _, iso := range isolations(t, spec.Public) {
		t.Run(iso.name, func(t *testing.T) { f(t, iso) })
	}
}

// eachPrivateRun runs f for each isolation of a private sandbox over each
// of the given proxy transports, as parallel subtests named
// "<isolation>/<transport>": each row is a run of its own, and most of one
// is waiting for the daemon. Both transports serve the runtimes `make
// gvisor` registers: a row the transport chooser says cannot be served
// fails with its reason, as a missing gVisor does.
func eachPrivateRun(t *testing.T, e *Engine, transports []string, f func(t *testing.T, iso isolation, transport string)) {
	t.Helper()
	for _, iso := range isolations(t, spec.Private) {
		facts, err := e.Facts(context.Background(), hostBinary(t), iso.runtime)
		assert.NilError(t, err)
		for _, transport := range transports {
			t.Run(iso.name+"/"+transport, func(t *testing.T) {
				if err := facts.Check(transport); err != nil {
					t.Fatalf("the %s transport cannot serve a sandbox under %s (register gVisor with `make gvisor`): %v", transport, iso.inspected(), err)
				}
				t.Parallel()
				f(t, iso, transport)
			})
		}
	}
}

// gVisor reports whether iso is a gVisor runtime.
func (iso isolation) gVisor() bool { return iso.runtime != "" }

// unreachable is the error a connect from a sandbox without a network
// (docker --network none) gets for any address but loopback. The host
// kernel says the network is unreachable, under runc and under runsc
// --network=host, which passes network calls to the container's namespace;
// gVisor's own network stack (runsc --network=none or sandbox) finds no
// route to the host.
func (iso isolation) unreachable() string {
	if iso.gVisor() && gvisor.ParseFlags(iso.args).Network != gvisor.NetworkHost {
		return "no route to host"
	}
	return "network is unreachable"
}

// spec is testSpec run under iso's runtime.
func (iso isolation) spec(t *testing.T, args ...string) spec.RunSpec {
	t.Helper()
	s := testSpec(t, args...)
	iso.apply(t, &s)
	return s
}

// apply runs s under iso's runtime, with the room for the runtime's own
// threads that --type gvisor adds to the pids limit. Tests that build their
// specs elsewhere (private mode's, through plan) call it on the sandbox.
func (iso isolation) apply(t *testing.T, s *spec.RunSpec) {
	t.Helper()
	s.Runtime = iso.runtime
	if iso.runtime != "" && s.Limits.PidsLimit > 0 {
		g, err := features.LookupType(features.GVisorType)
		assert.NilError(t, err)
		s.Limits.PidsLimit += g.PidsOverhead
	}
}

// inspected is the runtime a container reports it was created with.
func (iso isolation) inspected() string {
	if iso.runtime == "" {
		return "runc"
	}
	return iso.runtime
}

package gvisor

import (
	"errors"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"
)

var (
	bridge    = Need{Network: true}
	noNetwork = Need{}
	sockets   = Need{Sockets: true}
)

func TestProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		need Need
		want []string
	}{
		{"none without network", []string{"--network=none"}, noNetwork, nil},
		{"none on a network", []string{"--network=none"}, bridge, []string{"--network=none gives the sandbox loopback only, not the Docker network it joins"}},
		{"host on a network", []string{"--network=host"}, bridge, nil},
		{"own stack on a network", nil, bridge, nil},
		{"unknown network", []string{"--network=bogus"}, noNetwork, []string{"--network=bogus is not a runsc network (sandbox, host, none)"}},
		{"sockets closed", []string{"--network=none"}, sockets, []string{"--host-uds=none does not let the sandbox connect to host unix sockets (needs open or all)"}},
		{"sockets create only", []string{"--network=none", "--host-uds=create"}, sockets, []string{"--host-uds=create does not let the sandbox connect to host unix sockets (needs open or all)"}},
		{"sockets open", []string{"--network=none", "--host-uds=open"}, sockets, nil},
		{"sockets all", []string{"--network=none", "--host-uds=all"}, sockets, nil},
		{"both wrong", []string{"--network=none"}, Need{Network: true, Sockets: true}, []string{
			"--network=none gives the sandbox loopback only, not the Docker network it joins",
			"--host-uds=none does not let the sandbox connect to host unix sockets (needs open or all)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.DeepEqual(t, ParseFlags(tc.args).Problems(tc.need), tc.want)
		})
	}
}

func TestRecommendedSuitEachNeed(t *testing.T) {
	rs := Recommended(DefaultPath)
	for _, n := range []Need{{}, {Sockets: true}, {Network: true}, {Network: true, Sockets: true}} {
		got, err := Pick(rs, n)
		assert.NilError(t, err, "need: %s", n)
		want := Isolated
		if n.Network {
			want = Bridged
		}
		assert.Equal(t, got.Name, want, "need: %s", n)
	}
}

func TestPick(t *testing.T) {
	runc := Runtime{Name: "runc", Path: "runc"}
	own := Runtime{Name: "gvisor", Path: "/usr/local/bin/runsc"}
	hostAll := Runtime{Name: "a-host", Path: "/usr/bin/runsc", Args: []string{"--network=host", "--host-uds=all"}}
	hostOpen := Runtime{Name: "z-host", Path: "/usr/bin/runsc", Args: []string{"--network=host", "--host-uds=open"}}
	none := Runtime{Name: "runsc", Path: "/usr/bin/runsc", Args: []string{"--network=none", "--host-uds=open"}}
	for _, tc := range []struct {
		name       string
		registered []Runtime
		need       Need
		want       string
	}{
		{"only runc", []Runtime{runc}, bridge, ""},
		{"no network prefers none", []Runtime{own, hostOpen, none}, sockets, "runsc"},
		{"a network rules out none", []Runtime{none, hostOpen, own}, bridge, "z-host"},
		{"own stack is the last resort", []Runtime{none, own}, bridge, "gvisor"},
		{"open before all", []Runtime{hostAll, hostOpen}, sockets, "z-host"},
		{"name breaks ties", []Runtime{hostAll, {Name: "b-host", Path: "/x/runsc", Args: []string{"--network=host", "--host-uds=all"}}}, sockets, "a-host"},
		{"sockets rule out the default", []Runtime{own}, sockets, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Pick(tc.registered, tc.need)
			if tc.want == "" {
				var ns *NoSuitableError
				assert.Assert(t, errors.As(err, &ns), "got %v, %v", got, err)
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, got.Name, tc.want)
		})
	}
}

// The error is what a person reads when --type gvisor cannot run: it must
// carry the exact daemon.json lines, with the runsc path already in use.
func TestNoSuitableError(t *testing.T) {
	_, err := Pick([]Runtime{{Name: "runc", Path: "runc"}}, Need{Sockets: true})
	golden.Assert(t, err.Error(), "no-runtime.golden")

	_, err = Pick([]Runtime{
		{Name: "runc", Path: "runc"},
		{Name: "runsc", Path: "/opt/gvisor/runsc"},
		{Name: "runsc-debug", Path: "/opt/gvisor/runsc", Args: []string{"--network=none", "--debug"}},
	}, Need{Network: true, Sockets: true})
	golden.Assert(t, err.Error(), "unsuitable-runtimes.golden")
	assert.Check(t, is.Contains(err.Error(), `"path": "/opt/gvisor/runsc"`))
}

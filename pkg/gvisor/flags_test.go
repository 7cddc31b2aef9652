package gvisor

import (
	"testing"

	"gotest.tools/v3/assert"
)

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want Flags
	}{
		{"defaults", nil, Flags{Network: NetworkSandbox, HostUDS: UDSNone}},
		{"equals", []string{"--network=none", "--host-uds=open"}, Flags{Network: NetworkNone, HostUDS: UDSOpen}},
		{"single dash and separate value", []string{"-network", "host", "-host-uds", "all"}, Flags{Network: NetworkHost, HostUDS: UDSAll}},
		{"other flags kept apart", []string{"--platform=kvm", "--debug", "--network=host"}, Flags{Network: NetworkHost, HostUDS: UDSNone}},
		{"old socket flag", []string{"--fsgofer-host-uds"}, Flags{Network: NetworkSandbox, HostUDS: UDSAll}},
		{"old socket flag off", []string{"--fsgofer-host-uds=false"}, Flags{Network: NetworkSandbox, HostUDS: UDSNone}},
		{"last one wins", []string{"--network=none", "--network=host"}, Flags{Network: NetworkHost, HostUDS: UDSNone}},
		{"value missing at the end", []string{"--network"}, Flags{Network: "", HostUDS: UDSNone}},
		{"not a flag", []string{"network=none"}, Flags{Network: NetworkSandbox, HostUDS: UDSNone}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.DeepEqual(t, ParseFlags(tc.args), tc.want)
		})
	}
}

func TestIsGVisor(t *testing.T) {
	for _, tc := range []struct {
		r    Runtime
		want bool
	}{
		{Runtime{Name: "runsc", Path: "/usr/bin/runsc"}, true},
		{Runtime{Name: "gvisor", Path: "/opt/gvisor/runsc"}, true},
		{Runtime{Name: "runsc"}, true},
		{Runtime{Name: "runc", Path: "runc"}, false},
		{Runtime{Name: "runsc", Path: "/usr/bin/crun"}, false},
		{Runtime{Name: "io.containerd.runsc.v1"}, false},
	} {
		assert.Equal(t, tc.r.IsGVisor(), tc.want, "%+v", tc.r)
	}
}

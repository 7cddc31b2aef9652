package engine

import (
	"context"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/gvisor"
)

// What doctor says of a daemon's gVisor runtimes: the registered ones (from
// fakes: missing, unsuitable, as `make gvisor` registers them), what each
// suits, and what --type gvisor takes or which daemon.json lines it needs.
func TestGVisorChecks(t *testing.T) {
	runc := gvisor.Runtime{Name: "runc", Path: "runc"}
	// runsc as registered by hand, with its defaults: its own network
	// stack and no host sockets.
	bare := gvisor.Runtime{Name: "gvisor", Path: "/opt/gvisor/runsc"}
	type line struct {
		name string
		ok   bool
		// detail is the check's whole detail, or the parts it contains.
		detail   string
		contains []string
	}
	daemonJSON := func(name, network string) []string {
		return []string{"\"" + name + "\": {\n      \"path\": \"/opt/gvisor/runsc\"", "\"--network=" + network + "\",\n        \"--host-uds=open\""}
	}
	for _, tc := range []struct {
		name       string
		registered []gvisor.Runtime
		want       []line
	}{
		{
			name: "none registered", registered: []gvisor.Runtime{runc},
			want: []line{
				{name: "gvisor runtime", detail: "none registered"},
				{name: "--type gvisor, network public", contains: []string{
					"no registered gVisor runtime suits a sandbox on a Docker network that connects to host unix sockets (this Docker daemon has none)",
					"apt-get install runsc", "\"runsc-host\": {\n      \"path\": \"/usr/bin/runsc\"", "\"--network=host\",", "kill -HUP"}},
				{name: "--type gvisor, network private", contains: []string{
					"no registered gVisor runtime suits a sandbox without a network that connects to host unix sockets (this Docker daemon has none)",
					"\"runsc\": {\n      \"path\": \"/usr/bin/runsc\"", "\"--network=none\","}},
			},
		},
		{
			name: "unsuitable", registered: []gvisor.Runtime{runc, bare},
			want: []line{
				// Agent runs reach the gateway's host socket in public mode
				// too: without --host-uds the runtime suits no agent run.
				{name: "gvisor runtime", detail: "gvisor (/opt/gvisor/runsc): suits no network mode; " +
					"not public: --host-uds=none does not let the sandbox connect to host unix sockets (needs open or all); " +
					"not private: --host-uds=none does not let the sandbox connect to host unix sockets (needs open or all); " +
					"runsc's own network stack (--network=sandbox, the default) fails on some hosts with \"cannot run with network enabled in root network namespace\"; " +
					"if it does here, register it with --network=host or --network=none; " +
					"proxy transports: neither (both need --host-uds=open)"},
				// The lines to add keep the path of the runsc already there.
				{name: "--type gvisor, network public", contains: daemonJSON("runsc-host", "host")},
				{name: "--type gvisor, network private", contains: append(daemonJSON("runsc", "none"),
					"(gvisor (/opt/gvisor/runsc): --host-uds=none does not let the sandbox connect to host unix sockets (needs open or all))")},
			},
		},
		{
			name: "as make gvisor registers them", registered: append([]gvisor.Runtime{runc}, gvisor.Recommended(gvisor.DefaultPath)...),
			want: []line{
				{name: "gvisor runtime", ok: true, detail: "runsc (/usr/bin/runsc --network=none --host-uds=open --oci-seccomp): suits private; " +
					"not public: --network=none gives the sandbox loopback only, not the Docker network it joins; proxy transports: host and container"},
				{name: "gvisor runtime", ok: true, detail: "runsc-host (/usr/bin/runsc --network=host --host-uds=open --oci-seccomp): suits public, private; proxy transports: host and container"},
				{name: "--type gvisor, network public", ok: true, detail: "runs under runsc-host"},
				{name: "--type gvisor, network private", ok: true, detail: "runs under runsc"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := GVisorChecks(tc.registered)
			assert.Assert(t, is.Len(got, len(tc.want)), "%+v", got)
			for i, w := range tc.want {
				g := got[i]
				assert.Check(t, is.Equal(g.Name, w.name))
				assert.Check(t, is.Equal(g.OK, w.ok), "%s: %s", g.Name, g.Detail)
				assert.Check(t, g.Optional, "%s: gVisor is optional", g.Name)
				if w.detail != "" {
					assert.Check(t, is.Equal(g.Detail, w.detail))
				}
				for _, c := range w.contains {
					assert.Check(t, is.Contains(g.Detail, c))
				}
			}
		})
	}
}

// Against the real daemon, with gVisor registered (make gvisor) and a static
// sandbox binary: doctor finds both runtimes and the host transport.
func TestDoctor(t *testing.T) {
	e, _ := newTestEngine(t)
	checks := map[string][]Check{}
	for _, c := range append(e.Doctor(context.Background(), ""), e.PrivateCheck(context.Background(), hostBinary(t), proxyImage(t))) {
		checks[c.Name] = append(checks[c.Name], c)
	}
	assert.Assert(t, is.Len(checks["gvisor runtime"], 2), "%+v", checks)
	for _, c := range checks["gvisor runtime"] {
		assert.Check(t, c.OK, c.Detail)
	}
	for name, want := range map[string]string{
		"daemon":                         "Docker ",
		"--type gvisor, network public":  "runs under runsc-host",
		"--type gvisor, network private": "runs under runsc",
		"network private (the default)":  "the egress proxy runs on this host (the daemon is local)",
	} {
		assert.Assert(t, is.Len(checks[name], 1), "%s: %+v", name, checks)
		assert.Check(t, checks[name][0].OK, "%s: %s", name, checks[name][0].Detail)
		assert.Check(t, is.Contains(checks[name][0].Detail, want), name)
	}
}

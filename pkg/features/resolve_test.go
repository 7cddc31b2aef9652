package features

import (
	"fmt"
	"strings"
	"testing"
	"time"

	units "github.com/docker/go-units"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"

	"github.com/org/sandbox-action/pkg/gvisor"
	"github.com/org/sandbox-action/pkg/spec"
)

// testField sets one option in a layer and reads it back from the resolved
// values, independently of the production field table.
type testField struct {
	key  string
	vals [2]any
	set  func(s *Settings, v any)
	get  func(v Values) any
}

func testFields() []testField {
	fs := []testField{
		{KeyImage, [2]any{"img-a", "img-b"},
			func(s *Settings, v any) { s.Image = new(v.(string)) }, func(v Values) any { return v.Image }},
		{KeyNetwork, [2]any{spec.Private, spec.Public},
			func(s *Settings, v any) { s.Network = new(v.(spec.NetworkMode)) }, func(v Values) any { return v.Network }},
		{KeyAllow, [2]any{[]string{"a.example.com"}, []string{"*.b.example.com", "c.example.com:8443"}},
			func(s *Settings, v any) { s.Allow = v.([]string) }, func(v Values) any { return v.Allow }},
		{KeyMemory, [2]any{int64(units.GiB), int64(3 * units.GiB)},
			func(s *Settings, v any) { s.Memory = new(v.(int64)) }, func(v Values) any { return v.Memory }},
		{KeyCPUs, [2]any{int64(5e8), int64(3e9)},
			func(s *Settings, v any) { s.CPUs = new(v.(int64)) }, func(v Values) any { return v.CPUs }},
		{KeyPids, [2]any{int64(64), int64(2048)},
			func(s *Settings, v any) { s.Pids = new(v.(int64)) }, func(v Values) any { return v.Pids }},
		{KeyTimeout, [2]any{5 * time.Minute, 3 * time.Hour},
			func(s *Settings, v any) { s.Timeout = new(v.(time.Duration)) }, func(v Values) any { return v.Timeout }},
		{KeyUser, [2]any{"1000:1000", "2000"},
			func(s *Settings, v any) { s.User = new(v.(string)) }, func(v Values) any { return v.User }},
	}
	relax := []struct {
		name string
		opt  func(*Relax) **bool
		val  func(spec.Relax) bool
	}{
		{"root", func(r *Relax) **bool { return &r.Root }, func(r spec.Relax) bool { return r.Root }},
		{"writable_root", func(r *Relax) **bool { return &r.WritableRoot }, func(r spec.Relax) bool { return r.WritableRoot }},
		{"new_privileges", func(r *Relax) **bool { return &r.NewPrivileges }, func(r spec.Relax) bool { return r.NewPrivileges }},
		{"capabilities", func(r *Relax) **bool { return &r.Capabilities }, func(r spec.Relax) bool { return r.Capabilities }},
		{"no_init", func(r *Relax) **bool { return &r.NoInit }, func(r spec.Relax) bool { return r.NoInit }},
	}
	for _, x := range relax {
		fs = append(fs, testField{KeyRelaxPrefix + x.name, [2]any{true, false},
			func(s *Settings, v any) { *x.opt(&s.Relax) = new(v.(bool)) },
			func(v Values) any { return x.val(v.Relax) }})
	}
	return fs
}

// testInput is a catalog with one type "t" and one bundle "b", both chosen
// by flag, and every layer empty except an image in the defaults so that a
// run resolves at all.
func testInput() (catalog, Input) {
	c := catalog{
		defaults: Settings{Image: new("default-image")},
		types:    []Type{{Name: DefaultType}, {Name: "t", Runtime: "rt"}},
		bundles:  []Bundle{{Name: "b"}},
	}
	in := Input{Flags: Layer{Type: "t", Bundle: "b"}, ConfigName: "sandbox.yml"}
	return c, in
}

// layerOf returns the settings of one layer of a test catalog and input.
func layerOf(c *catalog, in *Input, o Origin) *Settings {
	switch o {
	case FromFlag:
		return &in.Flags.Settings
	case FromConfig:
		return &in.Config.Settings
	case FromBundle:
		return &c.bundles[0].Settings
	case FromType:
		return &c.types[1].Settings
	}
	return &c.defaults
}

var origins = []Origin{FromFlag, FromConfig, FromBundle, FromType, FromDefault}

// TestResolvePrecedence sets each option in every pair of layers, with
// both orders of two distinct values, and checks the stronger layer wins
// and is named as the source.
func TestResolvePrecedence(t *testing.T) {
	names := map[Origin]string{FromFlag: "", FromConfig: "sandbox.yml", FromBundle: "b", FromType: "t", FromDefault: ""}
	for _, f := range testFields() {
		for i, strong := range origins {
			for _, weak := range origins[i+1:] {
				for order := range 2 {
					win, lose := f.vals[order], f.vals[1-order]
					t.Run(fmt.Sprintf("%s/%v>%v/%d", f.key, Source{Origin: strong}, Source{Origin: weak}, order), func(t *testing.T) {
						c, in := testInput()
						f.set(layerOf(&c, &in, weak), lose)
						f.set(layerOf(&c, &in, strong), win)
						if f.key == KeyAllow {
							// An allowlist needs the private network.
							c.defaults.Network = new(spec.Private)
						}
						r, err := c.resolve(in)
						assert.NilError(t, err)
						assert.DeepEqual(t, f.get(r.Values), win)
						assert.Equal(t, r.Source(f.key), Source{Origin: strong, Name: names[strong]})
					})
				}
			}
		}
	}
}

func TestResolveUnsetLeavesZero(t *testing.T) {
	c, in := testInput()
	r, err := c.resolve(in)
	assert.NilError(t, err)
	assert.DeepEqual(t, r.Values, Values{Image: "default-image"})
	assert.Equal(t, r.Type.Runtime, "rt")
	assert.Equal(t, r.Source(KeyRuntime), Source{Origin: FromType, Name: "t"})
}

func TestResolveTypeAndBundleNames(t *testing.T) {
	image := Layer{Settings: Settings{Image: new("img")}}
	with := func(l Layer, typ, bundle string) Layer {
		l.Type, l.Bundle = typ, bundle
		return l
	}
	for _, tc := range []struct {
		name             string
		flags, config    Layer
		wantType         string
		wantTypeSource   Source
		wantBundle       string
		wantBundleSource Source
	}{
		{
			name: "defaults", flags: image,
			wantType: "standard", wantTypeSource: Source{Origin: FromDefault},
			wantBundle: "", wantBundleSource: Source{Origin: FromDefault},
		},
		{
			name: "config", flags: image, config: with(Layer{}, "gvisor", "small"),
			wantType: "gvisor", wantTypeSource: Source{Origin: FromConfig, Name: ".github/sandbox.yml"},
			wantBundle: "small", wantBundleSource: Source{Origin: FromConfig, Name: ".github/sandbox.yml"},
		},
		{
			name: "flag beats config", flags: with(image, "standard", "long-running"), config: with(Layer{}, "gvisor", "small"),
			wantType: "standard", wantTypeSource: Source{Origin: FromFlag},
			wantBundle: "long-running", wantBundleSource: Source{Origin: FromFlag},
		},
		{
			name: "flag none drops config bundle", flags: with(image, "", "none"), config: with(Layer{}, "", "small"),
			wantType: "standard", wantTypeSource: Source{Origin: FromDefault},
			wantBundle: "", wantBundleSource: Source{Origin: FromFlag},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Resolve(Input{Flags: tc.flags, Config: tc.config, ConfigName: ".github/sandbox.yml"})
			assert.NilError(t, err)
			assert.Equal(t, r.Type.Name, tc.wantType)
			assert.Equal(t, r.Source(KeyType), tc.wantTypeSource)
			assert.Equal(t, r.Bundle.Name, tc.wantBundle)
			assert.Equal(t, r.Source(KeyBundle), tc.wantBundleSource)
		})
	}
}

// Each built-in bundle resolves, and every option it sets wins over the
// default and is attributed to it.
func TestResolveBuiltinBundles(t *testing.T) {
	def := Defaults()
	for _, b := range Bundles() {
		t.Run(b.Name, func(t *testing.T) {
			r, err := Resolve(Input{Flags: Layer{Bundle: b.Name, Settings: Settings{Image: new("img")}}})
			assert.NilError(t, err)
			src := Source{Origin: FromBundle, Name: b.Name}
			checkLayered(t, r, KeyNetwork, b.Settings.Network, def.Network, r.Network, src)
			checkLayered(t, r, KeyMemory, b.Settings.Memory, def.Memory, r.Memory, src)
			checkLayered(t, r, KeyCPUs, b.Settings.CPUs, def.CPUs, r.CPUs, src)
			checkLayered(t, r, KeyPids, b.Settings.Pids, def.Pids, r.Pids, src)
			checkLayered(t, r, KeyTimeout, b.Settings.Timeout, def.Timeout, r.Timeout, src)
		})
	}
}

// checkLayered checks that an option is the layer's value when the layer
// sets it and the default's otherwise.
func checkLayered[T comparable](t *testing.T, r Resolved, key string, layer, def *T, got T, src Source) {
	t.Helper()
	want, wantSrc := def, Source{Origin: FromDefault}
	if layer != nil {
		want, wantSrc = layer, src
	}
	assert.Assert(t, want != nil, "%s: neither the layer nor the defaults set it", key)
	assert.Equal(t, got, *want, key)
	assert.Equal(t, r.Source(key), wantSrc, key)
}

func TestResolveErrors(t *testing.T) {
	img := Settings{Image: new("img")}
	for _, tc := range []struct {
		name    string
		in      Input
		wantErr string
	}{
		{
			name:    "unknown type from flag",
			in:      Input{Flags: Layer{Type: "fastest", Settings: img}},
			wantErr: `flag: unknown sandbox type "fastest" (valid: gvisor, standard)`,
		},
		{
			name:    "unknown type from config",
			in:      Input{Config: Layer{Type: "fastest", Settings: img}, ConfigName: ".github/sandbox.yml"},
			wantErr: `config .github/sandbox.yml: unknown sandbox type "fastest" (valid: gvisor, standard)`,
		},
		{
			name:    "unknown bundle",
			in:      Input{Flags: Layer{Bundle: "tiny", Settings: img}},
			wantErr: `flag: unknown bundle "tiny" (valid: locked-down, long-running, small, none)`,
		},
		{
			name:    "no image",
			in:      Input{},
			wantErr: "no image: pass --image IMAGE or set image in the config file",
		},
		{
			name:    "empty image",
			in:      Input{Flags: Layer{Settings: Settings{Image: new("")}}},
			wantErr: "flag: image : must not be empty",
		},
		{
			name: "invalid flag options are all reported",
			in: Input{Flags: Layer{Settings: Settings{
				Image: new("img"), Pids: new(int64(0)), Memory: new(int64(units.MiB)), CPUs: new(int64(-1)),
				Timeout: new(time.Duration(0)), Network: new(spec.NetworkMode("host")),
			}}},
			wantErr: "flag: network host: unknown network mode \"host\" (valid: private, public)\n" +
				"flag: memory 1m: below Docker's minimum of 6m\n" +
				"flag: cpus -0.000000001: must not be negative\n" +
				"flag: pids 0: must be at least 1\n" +
				"flag: timeout 0s: must be positive",
		},
		{
			name:    "invalid config user",
			in:      Input{Flags: Layer{Settings: img}, Config: Layer{Settings: Settings{User: new("a b")}}, ConfigName: "x.yml"},
			wantErr: `config x.yml: user a b: must be numeric "UID" or "UID:GID"`,
		},
		{
			name:    "invalid allowlist entries",
			in:      Input{Flags: Layer{Settings: Settings{Image: new("img"), Network: new(spec.Private), Allow: []string{"https://a.example.com", "b.example.com/x", "ok.example.com", "*"}}}},
			wantErr: `flag: invalid allow "https://a.example.com": want a host such as api.example.com, *.example.com or example.com:8443`,
		},
		{
			name: "allowlist with public network from the same layer",
			in: Input{
				Flags:      Layer{Settings: img},
				Config:     Layer{Settings: Settings{Network: new(spec.Public), Allow: []string{"a.example.com"}}},
				ConfigName: "c.yml",
			},
			wantErr: "egress allowlist (from config c.yml) needs network private, but network is public (from config c.yml)",
		},
		{
			name:    "allowlist with public network from a flag",
			in:      Input{Flags: Layer{Settings: Settings{Image: new("img"), Network: new(spec.Public), Allow: []string{"a.example.com"}}}},
			wantErr: "egress allowlist (from flag) needs network private, but network is public (from flag)",
		},
		{
			name:    "root user without relax",
			in:      Input{Flags: Layer{Settings: Settings{Image: new("img"), User: new("0:0")}}},
			wantErr: `user "0:0" (from flag) is root: also relax root (--relax root, or root: true under relax in the config file)`,
		},
		{
			name:    "root from config without relax",
			in:      Input{Flags: Layer{Settings: img}, Config: Layer{Settings: Settings{User: new("0")}}, ConfigName: "c.yml"},
			wantErr: `user "0" (from config c.yml) is root: also relax root (--relax root, or root: true under relax in the config file)`,
		},
		{
			name: "root relax explicitly withdrawn by flag",
			in: Input{
				Flags:      Layer{Settings: Settings{Image: new("img"), Relax: Relax{Root: new(false)}}},
				Config:     Layer{Settings: Settings{User: new("000"), Relax: Relax{Root: new(true)}}},
				ConfigName: "c.yml",
			},
			wantErr: `user "000" (from config c.yml) is root`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Resolve(tc.in)
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestResolveAllowlistOverriddenByPublicNetwork(t *testing.T) {
	// The config asks for private mode with an allowlist; a flag choosing
	// the public network overrides the network settings as a whole.
	r, err := Resolve(Input{
		Flags:      Layer{Settings: Settings{Image: new("img"), Network: new(spec.Public)}},
		Config:     Layer{Settings: Settings{Network: new(spec.Private), Allow: []string{"a.example.com"}}},
		ConfigName: "c.yml",
	})
	assert.NilError(t, err)
	assert.Equal(t, r.Network, spec.Public)
	assert.Assert(t, r.Allow == nil)
	assert.Equal(t, r.Source(KeyAllow), Source{Origin: FromFlag})
}

func TestResolveAllowlistWithBundleNetwork(t *testing.T) {
	r, err := Resolve(Input{
		Flags:  Layer{Bundle: "locked-down", Settings: Settings{Image: new("img")}},
		Config: Layer{Settings: Settings{Allow: []string{"api.example.com", "*.example.org", "[::1]:8443"}}},
	})
	assert.NilError(t, err)
	assert.Equal(t, r.Network, spec.Private)
	assert.DeepEqual(t, r.Allow, []string{"api.example.com", "*.example.org", "[::1]:8443"})
}

func TestResolveRootWithRelax(t *testing.T) {
	r, err := Resolve(Input{
		Flags:  Layer{Settings: Settings{Image: new("img"), User: new("0")}},
		Config: Layer{Settings: Settings{Relax: Relax{Root: new(true)}}},
	})
	assert.NilError(t, err)
	assert.Equal(t, r.User, "0")
	assert.Assert(t, r.Relax.Root)
}

// rt builds a registered runtime from its name and command line.
func rt(name string, argv ...string) gvisor.Runtime {
	r := gvisor.Runtime{Name: name}
	if len(argv) > 0 {
		r.Path, r.Args = argv[0], argv[1:]
	}
	return r
}

func TestFitRuntime(t *testing.T) {
	runc := rt("runc", "runc")
	bridged := rt("runsc-host", "/usr/bin/runsc", "--network=host", "--host-uds=open")
	isolated := rt("runsc", "/usr/bin/runsc", "--network=none", "--host-uds=open")
	for _, tc := range []struct {
		name       string
		typ        string
		network    spec.NetworkMode
		gateway    bool
		registered []gvisor.Runtime
		want       string
		wantErr    []string
		notWantErr string
	}{
		{name: "standard needs nothing", typ: "standard", network: spec.Public, want: ""},
		{name: "standard on runc", typ: "standard", network: spec.Public, registered: []gvisor.Runtime{runc}, want: ""},
		{name: "gvisor public takes the bridged runtime", typ: "gvisor", network: spec.Public,
			registered: []gvisor.Runtime{runc, isolated, bridged}, want: "runsc-host"},
		{name: "gvisor private has no network and uses host sockets", typ: "gvisor", network: spec.Private,
			registered: []gvisor.Runtime{isolated, bridged}, want: "runsc"},
		{name: "gvisor by another name", typ: "gvisor", network: spec.Public,
			registered: []gvisor.Runtime{runc, rt("gvisor", "/opt/bin/runsc", "--network", "host")}, want: "gvisor"},
		{
			name: "gvisor absent", typ: "gvisor", network: spec.Public, registered: []gvisor.Runtime{runc},
			wantErr: []string{
				`sandbox type "gvisor" (network public, from flag): no registered gVisor runtime suits a sandbox on a Docker network (this Docker daemon has none)`,
				`apt-get install runsc`,
				"\"runsc-host\": {\n      \"path\": \"/usr/bin/runsc\"",
				`or choose --type standard`,
			},
		},
		{
			// Private by default: the bridged runtime would run the sandbox
			// in public mode, so the error offers that way out too.
			name: "gvisor private by default without a runtime for it", typ: "gvisor",
			registered: []gvisor.Runtime{runc, rt("runsc-host", "/usr/bin/runsc", "--network=host")},
			wantErr: []string{
				`sandbox type "gvisor" (network private, default): no registered gVisor runtime suits a sandbox without a network`,
				`"--network=none",`,
				"or choose --type standard, or opt out of private mode with --network public (it runs under runsc-host)",
			},
		},
		{
			// No gVisor at all: public mode would not help, so it is not offered.
			name: "gvisor private absent", typ: "gvisor", network: spec.Private, registered: []gvisor.Runtime{runc},
			wantErr:    []string{`(network private, from flag)`, `or choose --type standard`},
			notWantErr: "--network public",
		},
		{name: "gvisor public command needs no host sockets", typ: "gvisor", network: spec.Public,
			registered: []gvisor.Runtime{rt("runsc-host", "/usr/bin/runsc", "--network=host")}, want: "runsc-host"},
		{name: "gvisor public agent run takes a runtime that reaches the gateway", typ: "gvisor", network: spec.Public, gateway: true,
			registered: []gvisor.Runtime{rt("runsc-bare", "/usr/bin/runsc", "--network=host"), bridged}, want: "runsc-host"},
		{
			// The agent's model API is behind the gateway's host socket even
			// on the bridge: without --host-uds it would fail mid-run.
			name: "gvisor public agent run without host sockets", typ: "gvisor", network: spec.Public, gateway: true,
			registered: []gvisor.Runtime{rt("runsc-host", "/usr/bin/runsc", "--network=host")},
			wantErr:    []string{`no registered gVisor runtime suits a sandbox on a Docker network`, `--host-uds`},
		},
		{
			name: "gvisor only without network", typ: "gvisor", network: spec.Public, registered: []gvisor.Runtime{runc, isolated},
			wantErr: []string{
				`(runsc (/usr/bin/runsc --network=none --host-uds=open): --network=none gives the sandbox loopback only, not the Docker network it joins)`,
				`"--network=host",`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags := Layer{Type: tc.typ, Settings: Settings{Image: new("img")}}
			if tc.network != "" {
				flags.Settings.Network = new(tc.network)
			}
			r, err := Resolve(Input{Flags: flags})
			assert.NilError(t, err)
			r.Gateway = tc.gateway
			err = r.Fit(Host{Runtimes: tc.registered, NCPU: 2})
			if len(tc.wantErr) > 0 {
				for _, w := range tc.wantErr {
					assert.ErrorContains(t, err, w)
				}
				if tc.notWantErr != "" {
					assert.Check(t, !strings.Contains(err.Error(), tc.notWantErr), "%v", err)
				}
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, r.Type.Runtime, tc.want)
			var s spec.RunSpec
			r.Apply(&s)
			assert.Equal(t, s.Runtime, tc.want)
		})
	}
}

func TestFitRuntimeByName(t *testing.T) {
	c := catalog{defaults: Defaults(), types: []Type{{Name: DefaultType}, {Name: "kata", Runtime: "kata-runtime"}}}
	r, err := c.resolve(Input{Flags: Layer{Type: "kata", Settings: Settings{Image: new("img")}}})
	assert.NilError(t, err)
	assert.Error(t, r.Fit(Host{Runtimes: []gvisor.Runtime{rt("runc"), rt("io.containerd.runc.v2")}}),
		`sandbox type "kata" needs the "kata-runtime" runtime, which this Docker daemon does not have (available: io.containerd.runc.v2, runc); install it or choose --type standard`)
	assert.NilError(t, r.Fit(Host{Runtimes: []gvisor.Runtime{rt("kata-runtime")}}))
}

func TestFit(t *testing.T) {
	resolve := func(flags Layer) Resolved {
		t.Helper()
		flags.Settings.Image = new("img")
		r, err := Resolve(Input{Flags: flags})
		assert.NilError(t, err)
		return r
	}
	runc := []gvisor.Runtime{rt("runc", "runc")}
	for _, tc := range []struct {
		name       string
		flags      Layer
		host       Host
		wantCPUs   int64
		wantSource Source
		wantErr    string
	}{
		{name: "default fits", host: Host{Runtimes: runc, NCPU: 2}, wantCPUs: 2e9, wantSource: Source{Origin: FromDefault}},
		{name: "unknown CPU count", host: Host{Runtimes: runc}, wantCPUs: 2e9, wantSource: Source{Origin: FromDefault}},
		{name: "default lowered", host: Host{Runtimes: runc, NCPU: 1}, wantCPUs: 1e9, wantSource: Source{Origin: FromHost}},
		{
			name: "bundle fits", flags: Layer{Bundle: "small"}, host: Host{Runtimes: runc, NCPU: 1},
			wantCPUs: 1e9, wantSource: Source{Origin: FromBundle, Name: "small"},
		},
		{
			name: "explicit too many", flags: Layer{Settings: Settings{CPUs: new(int64(4e9))}}, host: Host{Runtimes: runc, NCPU: 2},
			wantErr: "cpus 4 (from flag) is more than the 2 CPUs this Docker host has",
		},
		{
			name: "runtime missing", flags: Layer{Type: "gvisor"}, host: Host{Runtimes: runc, NCPU: 2},
			wantErr: `sandbox type "gvisor" (network private, default): no registered gVisor runtime suits`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := resolve(tc.flags)
			err := r.Fit(tc.host)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, r.CPUs, tc.wantCPUs)
			assert.Equal(t, r.Source(KeyCPUs), tc.wantSource)
		})
	}
}

func TestApply(t *testing.T) {
	r, err := Resolve(Input{
		Flags: Layer{Type: "gvisor", Settings: Settings{Image: new("img@sha256:abc"), Relax: Relax{NoInit: new(true)}}},
		Config: Layer{Bundle: "locked-down", Settings: Settings{
			Memory: new(int64(3 * units.GiB)), Allow: []string{"api.example.com"},
		}},
	})
	assert.NilError(t, err)

	s := spec.RunSpec{RunID: "r1", User: "1000:1000", Network: spec.Network{NoProxy: []string{"internal.example"}}}
	r.Apply(&s)
	b := Bundles()[0]
	assert.Equal(t, b.Name, "locked-down")
	assert.DeepEqual(t, s, spec.RunSpec{
		RunID:   "r1",
		Image:   "img@sha256:abc",
		User:    "1000:1000", // the workspace owner the caller chose stays
		Network: spec.Network{Mode: spec.Private, NoProxy: []string{"internal.example"}},
		// gVisor's own threads count against the pids limit: the type adds room for them.
		Limits:  spec.Limits{MemoryBytes: 3 * units.GiB, NanoCPUs: *b.Settings.CPUs, PidsLimit: *b.Settings.Pids + gvisorType(t).PidsOverhead},
		Relax:   spec.Relax{NoInit: true},
		Runtime: "runsc", // registered for a sandbox without a network; Fit may choose another
		Timeout: *b.Settings.Timeout,

		SandboxType: "gvisor",
		Bundle:      "locked-down",
	})

	// A resolved user replaces the caller's.
	r.User = "2000:2000"
	r.Apply(&s)
	assert.Equal(t, s.User, "2000:2000")
}

func gvisorType(t *testing.T) Type {
	t.Helper()
	g, err := LookupType(GVisorType)
	assert.NilError(t, err)
	return g
}

func TestRelaxations(t *testing.T) {
	r, err := Resolve(Input{
		Flags: Layer{Settings: Settings{Image: new("img"), Relax: Relax{
			Root: new(true), Capabilities: new(false),
		}}},
		Config: Layer{Settings: Settings{Relax: Relax{
			WritableRoot: new(true), Capabilities: new(true),
		}}},
		ConfigName: ".github/sandbox.yml",
	})
	assert.NilError(t, err)
	var got []string
	for _, x := range r.Relaxations() {
		got = append(got, x.String())
	}
	assert.DeepEqual(t, got, []string{
		"relax root: the container may run as root (from flag)",
		"relax writable_root: the root filesystem is writable (from config .github/sandbox.yml)",
	})
	assert.DeepEqual(t, r.Relax, spec.Relax{Root: true, WritableRoot: true})
}

func TestSummary(t *testing.T) {
	r, err := Resolve(Input{
		Flags: Layer{Type: "gvisor", Settings: Settings{
			Image: new("sandbox-agents:1"), Relax: Relax{NoInit: new(true)},
		}},
		Config: Layer{Bundle: "locked-down", Settings: Settings{
			Memory: new(int64(3 * units.GiB)), Allow: []string{"api.example.com", "*.example.org"}, User: new("1001:1001"),
		}},
		ConfigName: ".github/sandbox.yml",
	})
	assert.NilError(t, err)
	assert.NilError(t, r.Fit(Host{Runtimes: []gvisor.Runtime{rt("runc"), rt("runsc", "/usr/bin/runsc", "--network=none", "--host-uds=open")}, NCPU: 4}))
	golden.Assert(t, strings.Join(r.Summary(), "\n")+"\n", "summary.golden")

	r, err = Resolve(Input{Flags: Layer{Settings: Settings{Image: new("img")}}})
	assert.NilError(t, err)
	assert.NilError(t, r.Fit(Host{Runtimes: []gvisor.Runtime{rt("runc")}, NCPU: 1}))
	golden.Assert(t, strings.Join(r.Summary(), "\n")+"\n", "summary-defaults.golden")
}

// Private is the default network: a public run's summary says it opted
// out, and where that choice came from.
func TestSummarySaysPublicOptsOut(t *testing.T) {
	img := Settings{Image: new("img")}
	for _, tc := range []struct {
		in   Input
		want string
	}{
		{Input{Flags: Layer{Settings: Settings{Image: new("img"), Network: new(spec.Public)}}},
			"network=public (from flag, opting out of the private default)"},
		{Input{Flags: Layer{Settings: img}, Config: Layer{Settings: Settings{Network: new(spec.Public)}}, ConfigName: ".github/sandbox.yml"},
			"network=public (from config .github/sandbox.yml, opting out of the private default)"},
		{Input{Flags: Layer{Settings: Settings{Image: new("img"), Network: new(spec.Private)}}},
			"network=private (from flag)"},
		{Input{Flags: Layer{Settings: img}}, "network=private (default)"},
	} {
		r, err := Resolve(tc.in)
		assert.NilError(t, err)
		assert.Check(t, is.Contains(r.Summary(), tc.want))
	}
}

// The catalog as a person sees it in help texts; the golden file is the
// reviewable record of what every built-in type and bundle does.
func TestCatalogListing(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "defaults: %s\n", Defaults())
	for _, x := range Types() {
		fmt.Fprintf(&b, "type %s (runtime %q): %s [%s]\n", x.Name, x.Runtime, x.Description, x.Settings)
	}
	for _, x := range Bundles() {
		fmt.Fprintf(&b, "bundle %s: %s [%s]\n", x.Name, x.Description, x.Settings)
	}
	golden.Assert(t, b.String(), "catalog.golden")
}

func TestBuiltins(t *testing.T) {
	assert.NilError(t, Defaults().Validate())
	assert.DeepEqual(t, TypeNames(), []string{"gvisor", "standard"})
	assert.DeepEqual(t, BundleNames(), []string{"locked-down", "long-running", "small"})
	for _, x := range Types() {
		assert.NilError(t, x.Settings.Validate(), x.Name)
		assert.Assert(t, x.Description != "", x.Name)
		got, err := LookupType(x.Name)
		assert.NilError(t, err)
		assert.Equal(t, got.Name, x.Name)
	}
	for _, x := range Bundles() {
		assert.NilError(t, x.Settings.Validate(), x.Name)
		assert.Assert(t, x.Description != "", x.Name)
		assert.Assert(t, x.Name != NoBundle)
		got, err := LookupBundle(x.Name)
		assert.NilError(t, err)
		assert.Equal(t, got.Name, x.Name)
	}
	none, err := LookupBundle(NoBundle)
	assert.NilError(t, err)
	assert.Equal(t, none.Name, "")

	// Built-ins are handed out as copies: changing one changes nothing.
	*Defaults().Memory = 1
	*Bundles()[0].Settings.Memory = 1
	assert.Assert(t, *Defaults().Memory != 1)
	assert.Assert(t, *Bundles()[0].Settings.Memory != 1)
}

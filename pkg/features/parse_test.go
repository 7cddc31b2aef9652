package features

import (
	"fmt"
	"testing"
	"time"

	units "github.com/docker/go-units"
	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/pkg/spec"
)

func TestParseMemory(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "2g", want: 2 * units.GiB},
		{in: "512m", want: 512 * units.MiB},
		{in: "1.5g", want: 1536 * units.MiB},
		{in: "2GiB", want: 2 * units.GiB},
		{in: "4096MB", want: 4 * units.GiB},
		{in: "6m", want: spec.MinMemory},
		{in: "6291456", want: spec.MinMemory},
		{in: "", wantErr: `invalid memory "": want a size such as 512m or 2g`},
		{in: "lots", wantErr: `invalid memory "lots": want a size such as 512m or 2g`},
		{in: "2x", wantErr: `invalid memory "2x": want a size such as 512m or 2g`},
		{in: "-1g", wantErr: `invalid memory "-1g": must not be negative`},
		{in: "0", wantErr: `invalid memory "0": below Docker's minimum of 6m`},
		{in: "5m", wantErr: `invalid memory "5m": below Docker's minimum of 6m`},
		{in: "1e30g", wantErr: `invalid memory "1e30g": too large`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseMemory(tc.in)
			if tc.wantErr != "" {
				assert.Error(t, err, tc.wantErr)
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, got, tc.want)
		})
	}
}

func TestParseCPUs(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "1.5", want: 1_500_000_000},
		{in: "2", want: 2_000_000_000},
		{in: "0.01", want: 10_000_000},
		{in: "1/4", want: 250_000_000},
		{in: "", wantErr: `invalid cpus "": want a number such as 1.5`},
		{in: "two", wantErr: `invalid cpus "two": want a number such as 1.5`},
		{in: "-1", wantErr: `invalid cpus "-1": must not be negative`},
		{in: "0", wantErr: `invalid cpus "0": below the minimum of 0.01`},
		{in: "0.001", wantErr: `invalid cpus "0.001": below the minimum of 0.01`},
		{in: "1.0000000001", wantErr: `invalid cpus "1.0000000001": more precise than a billionth of a CPU`},
		{in: "1e20", wantErr: `invalid cpus "1e20": too large`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseCPUs(tc.in)
			if tc.wantErr != "" {
				assert.Error(t, err, tc.wantErr)
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, got, tc.want)
		})
	}
}

func TestParseTimeout(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "30m", want: 30 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "45s", want: 45 * time.Second},
		{in: "30", wantErr: `invalid timeout "30": want a duration such as 30m or 1h30m`},
		{in: "", wantErr: `invalid timeout "": want a duration such as 30m or 1h30m`},
		{in: "soon", wantErr: `invalid timeout "soon": want a duration such as 30m or 1h30m`},
		{in: "0s", wantErr: `invalid timeout "0s": must be positive`},
		{in: "-5m", wantErr: `invalid timeout "-5m": must be positive`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTimeout(tc.in)
			if tc.wantErr != "" {
				assert.Error(t, err, tc.wantErr)
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, got, tc.want)
		})
	}
}

func TestParseNetwork(t *testing.T) {
	for _, m := range []spec.NetworkMode{spec.Public, spec.Private} {
		got, err := ParseNetwork(string(m))
		assert.NilError(t, err)
		assert.Equal(t, got, m)
	}
	for _, bad := range []string{"", "host", "Public"} {
		_, err := ParseNetwork(bad)
		assert.Error(t, err, `unknown network mode "`+bad+`" (valid: private, public)`)
	}
}

func TestParsePids(t *testing.T) {
	n, err := ParsePids(1)
	assert.NilError(t, err)
	assert.Equal(t, n, int64(1))
	for _, bad := range []int64{0, -1} {
		_, err := ParsePids(bad)
		assert.ErrorContains(t, err, "must be at least 1")
	}
}

func TestParseRelax(t *testing.T) {
	r, err := ParseRelax([]string{"root", "writable-root", "no_init"})
	assert.NilError(t, err)
	assert.DeepEqual(t, r, Relax{Root: new(true), WritableRoot: new(true), NoInit: new(true)})

	_, err = ParseRelax([]string{"root", "seccomp"})
	assert.Error(t, err, `unknown hardening default "seccomp" (valid: root, writable_root, new_privileges, capabilities, no_init, ptrace)`)
}

// The formatters must produce what the parsers read back, since summaries
// show values a person may paste into a flag or the config file.
func TestFormatRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{4 * units.GiB, "4g"},
		{1536 * units.MiB, "1536m"},
		{spec.MinMemory, "6m"},
		{2 * units.TiB, "2t"},
		{10*units.MiB + 1, "10485761"},
	} {
		assert.Equal(t, FormatMemory(tc.n), tc.want)
		back, err := ParseMemory(tc.want)
		assert.NilError(t, err)
		assert.Equal(t, back, tc.n)
	}
	for _, tc := range []struct {
		nano int64
		want string
	}{
		{2e9, "2"},
		{1.5e9, "1.5"},
		{1e7, "0.01"},
		{1_000_000_001, "1.000000001"},
	} {
		assert.Equal(t, FormatCPUs(tc.nano), tc.want)
		back, err := ParseCPUs(tc.want)
		assert.NilError(t, err)
		assert.Equal(t, back, tc.nano)
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Minute, "30m"},
		{2 * time.Hour, "2h"},
		{90 * time.Minute, "1h30m"},
		{2*time.Hour + 5*time.Second, "2h0m5s"},
		{45 * time.Second, "45s"},
	} {
		assert.Equal(t, FormatTimeout(tc.d), tc.want)
		back, err := ParseTimeout(tc.want)
		assert.NilError(t, err)
		assert.Equal(t, back, tc.d)
	}
}

func TestParseUser(t *testing.T) {
	for _, good := range []string{"1000", "1000:1000", "0", "4294967295:0"} {
		got, err := ParseUser(good)
		assert.NilError(t, err)
		assert.Equal(t, got, good)
	}
	for _, bad := range []string{"", "node", "a b", "1000:", ":1000", "-1", "1:2:3", "1\n"} {
		_, err := ParseUser(bad)
		assert.Error(t, err, fmt.Sprintf(`invalid user %q: must be numeric "UID" or "UID:GID"`, bad))
	}
	_, err := ParseUser("1000:4294967296")
	assert.Error(t, err, `invalid user "1000:4294967296": 4294967296 is out of range for a UID or GID`)
}

func TestParseAllow(t *testing.T) {
	for _, good := range []string{"api.example.com", "*.example.com", "example.com:8443", "10.0.0.1", "[::1]:443", "localhost", "my_container", "@go", "@GitHub"} {
		got, err := ParseAllow(good)
		assert.NilError(t, err)
		assert.Equal(t, got, good)
	}
	for _, bad := range []string{"", "*", "https://example.com", "example.com/path", "a b.com", "*.", "example.com:", "ex*ample.com", "-x.com"} {
		_, err := ParseAllow(bad)
		assert.Error(t, err, fmt.Sprintf("invalid allow %q: want a host such as api.example.com, *.example.com or example.com:8443", bad))
	}
	_, err := ParseAllow("1.2.3.999")
	assert.Error(t, err, `invalid allow "1.2.3.999": invalid IPv4 address "1.2.3.999"`)
	_, err = ParseAllow("@gopher")
	assert.ErrorContains(t, err, `invalid allow "@gopher": unknown bundle "@gopher" (known: @anthropic, @openai, @gemini, @github, @go, @npm, @pypi, @debian)`)
}

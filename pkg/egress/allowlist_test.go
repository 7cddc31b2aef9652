package egress

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestAllowlistCheck(t *testing.T) {
	al, err := ParseAllowlist([]string{
		"api.example.com",
		" *.Example.ORG. ",
		"alt.example.com:8443",
		"*.svc.test:9000",
		"10.0.0.7",
		"[FD00::7]:443",
		"::ffff:10.0.0.8",
		"my_container",
	}, nil)
	assert.NilError(t, err)
	assert.Equal(t, al.String(), "api.example.com,*.example.org,alt.example.com:8443,*.svc.test:9000,10.0.0.7,[fd00::7]:443,10.0.0.8,my_container")

	tests := []struct {
		host   string
		port   int
		ok     bool
		reason string
	}{
		{"api.example.com", 443, true, ""},
		{"api.example.com", 80, true, ""},
		{"API.EXAMPLE.COM.", 443, true, ""},
		{"api.example.com", 8443, false, "port 8443 is not allowed for api.example.com"},
		{"example.com", 443, false, "host example.com is not in the allowlist"},
		{"x.api.example.com", 443, false, "host x.api.example.com is not in the allowlist"},
		// *.suffix matches names under the suffix at any depth, never the
		// suffix itself or a name that merely ends with the same letters.
		{"a.example.org", 443, true, ""},
		{"a.b.example.org", 80, true, ""},
		{"example.org", 443, false, "host example.org is not in the allowlist"},
		{"badexample.org", 443, false, "host badexample.org is not in the allowlist"},
		// An entry with a port allows that port only.
		{"alt.example.com", 8443, true, ""},
		{"alt.example.com", 443, false, "port 443 is not allowed for alt.example.com"},
		{"db.svc.test", 9000, true, ""},
		{"db.svc.test", 443, false, "port 443 is not allowed for db.svc.test"},
		// IP literals match IP entries only, in any spelling.
		{"10.0.0.7", 443, true, ""},
		{"167772167", 80, true, ""},
		{"012.0.0.7", 443, true, ""},
		{"0xa.0.0.7", 443, true, ""},
		{"10.7", 443, true, ""},
		{"[::ffff:10.0.0.7]", 443, true, ""},
		{"fd00::7", 443, true, ""},
		{"[fd00:0::7]", 443, true, ""},
		{"fd00::7", 80, false, "port 80 is not allowed for fd00::7"},
		{"10.0.0.8", 443, true, ""},
		{"10.0.0.9", 443, false, "IP address 10.0.0.9 is not in the allowlist"},
		{"my_container", 80, true, ""},
		// Invalid input is denied with the reason.
		{"", 443, false, "missing host"},
		{"api.example.com", 0, false, `invalid port "0"`},
		{"-api.example.com", 443, false, `invalid host name "-api.example.com": label starts or ends with '-'`},
		{"api example.com", 443, false, `invalid host name "api example.com": character ' ' not allowed`},
		{"bücher.example.org", 443, false, `invalid host name "bücher.example.org": non-ASCII name; use its punycode (xn--) form`},
		{"256.0.0.1", 443, false, `invalid IPv4 address "256.0.0.1"`},
		{"4294967296", 443, false, `invalid IPv4 address "4294967296"`},
		{"1.2.3.4.5", 443, false, `invalid IPv4 address "1.2.3.4.5"`},
		{"08.0.0.1", 443, false, `invalid IPv4 address "08.0.0.1"`},
		{"fe80::1%eth0", 443, false, `invalid IPv6 address "fe80::1%eth0"`},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			ok, reason := al.Check(tc.host, tc.port)
			assert.Equal(t, ok, tc.ok)
			assert.Equal(t, reason, tc.reason)
		})
	}
}

func TestAllowlistDefaultPorts(t *testing.T) {
	al, err := ParseAllowlist([]string{"api.example.com"}, []int{8080})
	assert.NilError(t, err)
	assert.DeepEqual(t, al.Ports(), []int{8080})
	ok, _ := al.Check("api.example.com", 8080)
	assert.Assert(t, ok)
	ok, reason := al.Check("api.example.com", 443)
	assert.Assert(t, !ok)
	assert.Equal(t, reason, "port 443 is not allowed for api.example.com")

	empty, err := ParseAllowlist(nil, nil)
	assert.NilError(t, err)
	ok, reason = empty.Check("api.example.com", 443)
	assert.Assert(t, !ok)
	assert.Equal(t, reason, "host api.example.com is not in the allowlist")
}

func TestParseAllowlistErrors(t *testing.T) {
	tests := []struct {
		entry string
		err   string
	}{
		{"", `allowlist entry "": empty`},
		{"*", "a bare * would allow every host"},
		{"*:443", "a bare * would allow every host"},
		{"api.*.com", "* is only allowed as the first label"},
		{"**.example.com", "* is only allowed as the first label"},
		{"*example.com", "* is only allowed as the first label"},
		{"*.10.0.0.1", "a wildcard cannot apply to an IP address"},
		{"api.example.com:", "missing port after ':'"},
		{"api.example.com:0", `invalid port "0"`},
		{"api.example.com:70000", `invalid port "70000"`},
		{"api.example.com:https", `invalid port "https"`},
		{"[fd00::7", "missing ']' after IPv6 address"},
		{"[fd00::7]x", `unexpected "x" after IPv6 address`},
		{"[fd00::zz]", `invalid IPv6 address "fd00::zz"`},
		{"--allow-all", "label starts or ends with '-'"},
		{"http://api.example.com", "invalid port"},
		{"api.example.com/v1", "character '/' not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.entry, func(t *testing.T) {
			_, err := ParseAllowlist([]string{"ok.example.com", tc.entry}, nil)
			assert.ErrorContains(t, err, tc.err)
			assert.Assert(t, is.Contains(err.Error(), "allowlist entry"))
		})
	}
	_, err := ParseAllowlist(nil, []int{443, 0})
	assert.Error(t, err, "default port 0: out of range 1-65535")
}

func TestAllowlistBundles(t *testing.T) {
	al, err := ParseAllowlist([]string{"@go", " @GitHub ", "api.example.com", "@go", "@debian"}, nil)
	assert.NilError(t, err)
	assert.DeepEqual(t, al.Entries(), []string{"@go", "@github", "api.example.com", "@debian"})
	assert.Assert(t, is.Contains(al.String(), "proxy.golang.org:443,sum.golang.org:443,storage.googleapis.com:443,github.com:443,"))
	tests := []struct {
		host   string
		port   int
		ok     bool
		reason string
	}{
		{"proxy.golang.org", 443, true, ""},
		{"sum.golang.org", 443, true, ""},
		{"proxy.golang.org", 80, false, "port 80 is not allowed for proxy.golang.org"},
		{"github.com", 443, true, ""},
		{"codeload.github.com", 443, true, ""},
		{"api.github.com", 443, false, "host api.github.com is not in the allowlist"},
		{"deb.debian.org", 80, true, ""},
		{"security.debian.org", 443, true, ""},
		{"api.example.com", 80, true, ""},
		{"registry.npmjs.org", 443, false, "host registry.npmjs.org is not in the allowlist"},
	}
	for _, tc := range tests {
		ok, reason := al.Check(tc.host, tc.port)
		assert.Equal(t, ok, tc.ok, "%s:%d", tc.host, tc.port)
		assert.Equal(t, reason, tc.reason)
	}
}

// Every bundle is valid, documented, and names its ports: a bundle opens
// what its tools need, not every default port.
func TestAllowBundlesAreValid(t *testing.T) {
	names := map[string]bool{}
	for _, b := range AllowBundles() {
		assert.Assert(t, !names[b.Name], "bundle %s twice", b.Name)
		names[b.Name] = true
		assert.Assert(t, b.Doc != "", "bundle %s has no doc", b.Name)
		assert.Assert(t, len(b.Entries) > 0)
		for _, e := range b.Entries {
			r, err := parseRule(e)
			assert.NilError(t, err, "bundle %s", b.Name)
			assert.Assert(t, r.port != 0 && !r.wildcard && !r.ip, "bundle %s entry %s: want host:port", b.Name, e)
		}
		got, err := LookupBundle(BundlePrefix + strings.ToUpper(b.Name))
		assert.NilError(t, err)
		assert.Equal(t, got.Name, b.Name)
	}
	for _, want := range []string{"anthropic", "openai", "gemini", "github", "go", "npm", "pypi", "debian"} {
		assert.Assert(t, names[want], "no bundle %s", want)
	}
}

func TestAllowlistBundleErrors(t *testing.T) {
	known := "(known: @anthropic, @openai, @gemini, @github, @go, @npm, @pypi, @debian)"
	for entry, want := range map[string]string{
		"@gopher":    `allowlist entry "@gopher": unknown bundle "@gopher" ` + known,
		"@":          `allowlist entry "@": unknown bundle "@" ` + known,
		"@go:443":    `allowlist entry "@go:443": unknown bundle "@go:443"`,
		"@@go":       `allowlist entry "@@go": unknown bundle "@@go"`,
		"go@":        `allowlist entry "go@": invalid host name "go@": character '@' not allowed`,
		"*.@go":      `allowlist entry "*.@go": invalid host name "@go": character '@' not allowed`,
		"@go.dev":    `unknown bundle "@go.dev"`,
		"api@go.dev": `character '@' not allowed`,
	} {
		_, err := ParseAllowlist([]string{"ok.example.com", entry}, nil)
		assert.ErrorContains(t, err, want, entry)
		assert.ErrorContains(t, ValidateAllowEntry(entry), strings.TrimPrefix(want, `allowlist entry "`+entry+`": `))
	}
	assert.NilError(t, ValidateAllowEntry("@npm"))
	assert.NilError(t, ValidateAllowEntry("my_container:8080"))
}

// Whatever an allowlist entry is, parsing never panics, validating agrees
// with parsing, and the normalised forms parse back to themselves.
func FuzzParseAllowlist(f *testing.F) {
	for _, s := range []string{"api.example.com", "*.Example.ORG.", "alt.example.com:8443", "10.0.0.7", "[FD00::7]:443",
		"::ffff:10.0.0.8", "my_container", "@go", "@GitHub", "@", "@nope", "*", "*:443", "api.*.com", "[fd00::7",
		"x:", "x:0", "x:65536", "2130706433", "0x7f.1:80", "@go:443", " @pypi ", "*.@go", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		al, err := ParseAllowlist([]string{entry}, nil)
		if verr := ValidateAllowEntry(entry); (verr == nil) != (err == nil) {
			t.Fatalf("ValidateAllowEntry(%q) = %v but ParseAllowlist: %v", entry, verr, err)
		}
		if err != nil {
			return
		}
		again, err := ParseAllowlist(al.Entries(), nil)
		if err != nil {
			t.Fatalf("entries %q of %q do not parse: %v", al.Entries(), entry, err)
		}
		if again.String() != al.String() || strings.Join(again.Entries(), ",") != strings.Join(al.Entries(), ",") {
			t.Fatalf("%q: parsed %q (%q), re-parsed %q (%q)", entry, al.Entries(), al.String(), again.Entries(), again.String())
		}
		expanded, err := ParseAllowlist(strings.Split(al.String(), ","), nil)
		if err != nil || expanded.String() != al.String() {
			t.Fatalf("%q: expanded form %q does not parse back: %v", entry, al.String(), err)
		}
	})
}

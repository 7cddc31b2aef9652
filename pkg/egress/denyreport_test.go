package egress

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"
)

// A run's refusals, made through a real proxy, come out as a report that
// lists them with counts and prints a config line that, read back as YAML
// and parsed as an allowlist, allows exactly what was refused by name, and
// nothing that was refused by address.
func TestDenyReport(t *testing.T) {
	dns := fakeDNS(t, map[string][]netip.Addr{"sneaky.example.test": {netip.MustParseAddr("127.0.0.1")}})
	allow := []string{"api.anthropic.com", "@go", "sneaky.example.test"}
	tp := serveProxy(t, allow, ProxyConfig{Resolver: dns})
	refused := []string{
		"pypi.org:443", "pypi.org:443", "files.pythonhosted.org:443", "pypi.org:80",
		"example.com:8443", "Example.com.:8443", "[2001:db8:5::7]:443",
		"127.0.0.1:443", "169.254.169.254:80", "sneaky.example.test:443",
		"null:443", "a.b.example.org:443",
	}
	for _, target := range refused {
		resp, _ := rawRequest(t, tp.addr, "CONNECT "+target+" HTTP/1.1\r\nHost: x\r\n\r\n")
		assert.Equal(t, resp.StatusCode, http.StatusForbidden, target)
	}
	resp, _ := rawRequest(t, tp.addr, "CONNECT bad_host!:443 HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.Equal(t, resp.StatusCode, http.StatusBadRequest)
	tp.stop()

	st := tp.proxy.Recorder().Stats()
	assert.DeepEqual(t, st.Allow, []string{"api.anthropic.com", "@go", "sneaky.example.test"})
	r := st.DenyReport()
	r.Gateway = 2
	assert.Assert(t, !r.Empty())
	golden.Assert(t, r.String(), "denyreport.golden")
	golden.Assert(t, r.Markdown(), "denyreport.md.golden")
	assert.Equal(t, r.Other, int64(1))
	assert.Equal(t, sum(r.Hosts)+sum(r.Local)+r.Other, st.Proxy.Denied)

	var cfg struct {
		Allow []string `yaml:"allow"`
	}
	assert.NilError(t, yaml.Unmarshal([]byte(r.ConfigLine()), &cfg))
	assert.DeepEqual(t, cfg.Allow, r.Allow)
	al, err := ParseAllowlist(cfg.Allow, nil)
	assert.NilError(t, err)
	for _, target := range append(refused[:7:7], refused[10:]...) {
		tg, err := parseHostPort(target)
		assert.NilError(t, err)
		ok, reason := al.allows(tg)
		assert.Assert(t, ok, "the suggested line does not allow %s: %s", target, reason)
	}
	for _, local := range []string{"127.0.0.1", "169.254.169.254"} {
		suggested := slices.ContainsFunc(cfg.Allow, func(e string) bool { return strings.Contains(e, local) })
		assert.Assert(t, !suggested, "a local address was suggested: %v", cfg.Allow)
	}
	// Still allowed: what was allowed before.
	for _, h := range []string{"api.anthropic.com", "proxy.golang.org", "sneaky.example.test"} {
		ok, _ := al.Check(h, 443)
		assert.Assert(t, ok, h)
	}
}

func TestDenyReportEmpty(t *testing.T) {
	rec, _ := newTestRecorder()
	rec.Record(Event{Component: componentProxy, Host: "api.example.com", Decision: Allow})
	r := rec.Stats().DenyReport()
	assert.Assert(t, r.Empty())
	assert.Equal(t, r.String(), "")
	assert.Equal(t, r.Markdown(), "")
	assert.Equal(t, r.ConfigLine(), "")

	// Gateway refusals alone: reported, no config line.
	rec.Record(Event{Component: componentGateway, Host: "anthropic", Decision: Deny})
	r = rec.Stats().DenyReport()
	assert.Equal(t, r.String(), "egress: the credential gateway refused 1 request (see the proxy log)\n")
	assert.Equal(t, r.ConfigLine(), "")
}

// The denial table is bounded like the host table.
func TestRecorderBoundsDenials(t *testing.T) {
	rec, _ := newTestRecorder()
	for i := range maxKeys + 5 {
		h := "h" + itoa(i) + ".test"
		rec.Record(Event{Component: componentProxy, Host: h, Port: 443, Entry: h, Decision: Deny})
	}
	st := rec.Stats()
	assert.Equal(t, len(st.Denials), maxKeys+1)
	r := st.DenyReport()
	assert.Equal(t, r.Other, int64(5))
	assert.Assert(t, is.Len(r.Hosts, maxKeys))
}

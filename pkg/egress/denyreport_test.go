package egress

import (
	"net/http"
	"net/netip"
	"regexp"
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

// The deny report goes into the pull request's status comment, and the
// names in it are the agent's choice: none may bring Markdown, HTML, a
// link or an @-mention (a team ping) along. Only names the proxy could
// parse as a host are reported, each in a code span.
func TestDenyReportCarriesNoMarkupFromTheAgent(t *testing.T) {
	tp := serveProxy(t, []string{"api.anthropic.com"}, ProxyConfig{})
	hostile := []string{
		"CONNECT @org/team:443", "CONNECT @org:443", "CONNECT org@team.example.com:443",
		"CONNECT [x](https://evil.example):443", "CONNECT <img src=x>:443", "CONNECT evil.example`|x:443",
		"CONNECT evil.example%0A@org/team:443", "CONNECT evil.example\t@org:443",
		"CONNECT xn--80ak6aa92e.com:443", "CONNECT ＠org.example:443", "CONNECT __bold__.example:443",
		"GET http://@org/team/ HTTP/1.1", "GET http://user@evil.example/ HTTP/1.1",
		"GET http://evil.example%2F@org/ HTTP/1.1", "GET http://[x](y)/ HTTP/1.1",
		// Characters Go's URL parser lets through in a host name.
		"CONNECT <img>:443", "CONNECT x.example>'!$&*+,;=~:443", "GET http://<b>x</b>/ HTTP/1.1",
		"GET http://x.example\"><a>/ HTTP/1.1", "GET http://(x)[y]/ HTTP/1.1",
	}
	for _, req := range hostile {
		if !strings.Contains(req, " HTTP/") {
			req += " HTTP/1.1"
		}
		resp, _ := rawRequest(t, tp.addr, req+"\r\nHost: x\r\n\r\n")
		assert.Check(t, resp.StatusCode >= 400, "%s: %d", req, resp.StatusCode)
	}
	tp.stop()

	r := tp.proxy.Recorder().Stats().DenyReport()
	assert.Assert(t, len(r.Hosts) > 0, "nothing was reported by name")
	name := regexp.MustCompile(`^[a-z0-9._-]+:[0-9]+$`)
	for _, d := range append(r.Hosts, r.Local...) {
		assert.Check(t, name.MatchString(d.Target), "reported destination %q", d.Target)
	}
	for _, e := range r.Allow {
		assert.Check(t, e == "api.anthropic.com" || name.MatchString(e) || regexp.MustCompile(`^[a-z0-9._-]+$`).MatchString(e), "suggested entry %q", e)
	}
	for what, text := range map[string]string{"status comment": r.Body(), "step summary": r.Markdown()} {
		for _, bad := range []string{"@", "<", "](", "http", "\t"} {
			assert.Check(t, !strings.Contains(text, bad), "%s carries %q:\n%s", what, bad, text)
		}
	}
}

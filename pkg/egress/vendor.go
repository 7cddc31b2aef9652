package egress

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Vendor names a model API the gateway fronts. It is also the first path
// segment of the gateway's routes: /anthropic/..., /openai/..., /gemini/...
type Vendor string

// The vendors the gateway knows.
const (
	Anthropic Vendor = "anthropic"
	OpenAI    Vendor = "openai"
	Gemini    Vendor = "gemini"
)

// Vendors lists every Vendor, in a stable order.
var Vendors = []Vendor{Anthropic, OpenAI, Gemini}

// ParseVendor parses a vendor name.
func ParseVendor(s string) (Vendor, error) {
	for _, v := range Vendors {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown vendor %q (want one of %s)", s, vendorList(Vendors))
}

func vendorList(vs []Vendor) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// DefaultUpstream is the vendor's real API.
func (v Vendor) DefaultUpstream() string {
	switch v {
	case Anthropic:
		return "https://api.anthropic.com"
	case OpenAI:
		return "https://api.openai.com"
	case Gemini:
		return "https://generativelanguage.googleapis.com"
	}
	return ""
}

// BaseURL is the root of v's route on a gateway at gateway (e.g.
// "http://sandbox-proxy:8080"): gateway + "/" + v. The API's own paths follow
// beneath it, so each CLI gets:
//
//	Claude Code  ANTHROPIC_BASE_URL=http://gw:8080/anthropic (no /v1; it calls /v1/messages)
//	Codex        -c model_providers.gw={base_url='http://gw:8080/openai/v1',...}
//	             (pkg/agent's Request.BaseURL is this root; the adapter adds /v1)
//	Gemini CLI   GOOGLE_GEMINI_BASE_URL=http://gw:8080/gemini (it calls /v1beta/...)
func (v Vendor) BaseURL(gateway string) string {
	return strings.TrimSuffix(gateway, "/") + "/" + string(v)
}

// Where credentials travel. The gateway strips all of them from every
// request, so that the upstream only ever sees the real key it adds.
const (
	headerAPIKey     = "X-Api-Key"
	headerGoogAPIKey = "X-Goog-Api-Key"
	headerAuth       = "Authorization"
	queryKey         = "key"
)

// credentials returns the credentials r carries in the places v's clients
// put their API key: Anthropic x-api-key or Authorization: Bearer, OpenAI
// Authorization: Bearer, Gemini x-goog-api-key or ?key=.
func (v Vendor) credentials(r *http.Request) []string {
	var out []string
	header := func(name string) {
		out = append(out, r.Header.Values(name)...)
	}
	bearer := func() {
		for _, a := range r.Header.Values(headerAuth) {
			scheme, tok, ok := strings.Cut(a, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				// Present but unusable: counts as a wrong credential.
				tok = a
			}
			out = append(out, strings.TrimSpace(tok))
		}
	}
	switch v {
	case Anthropic:
		header(headerAPIKey)
		bearer()
	case OpenAI:
		bearer()
	case Gemini:
		header(headerGoogAPIKey)
		out = append(out, r.URL.Query()[queryKey]...)
	}
	return out
}

// setKey removes every credential from the outgoing request and adds key
// where v's API expects it.
func (v Vendor) setKey(out *http.Request, key string) {
	for _, h := range []string{headerAPIKey, headerGoogAPIKey, headerAuth} {
		out.Header.Del(h)
	}
	if q := out.URL.Query(); q.Has(queryKey) {
		q.Del(queryKey)
		out.URL.RawQuery = q.Encode()
	}
	switch v {
	case Anthropic:
		out.Header.Set(headerAPIKey, key)
	case OpenAI:
		out.Header.Set(headerAuth, "Bearer "+key)
	case Gemini:
		out.Header.Set(headerGoogAPIKey, key)
	}
}

// ValidateUpstream checks a model API base URL as the gateway takes it
// (see parseUpstream), so that a bad value fails where it is given rather
// than when the proxy starts.
func ValidateUpstream(s string) error {
	_, err := parseUpstream(s)
	return err
}

// parseUpstream validates an upstream base URL: a host, no query, fragment
// or user info (the key must go to exactly this origin), and https, unless
// the host is a loopback IP literal. Plain HTTP would hand the real key to
// every network hop on the way; a loopback address never leaves the kernel
// of the host the gateway runs on, where a local model gateway (LiteLLM,
// say) commonly serves plain HTTP. A name such as localhost does not count:
// what it resolves to is not the URL's to say.
func parseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Scheme == "http" && !loopbackLiteral(u.Hostname()):
		return nil, fmt.Errorf("%q: scheme must be https (http only for a loopback address such as http://127.0.0.1:4000)", s)
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("%q: scheme must be https", s)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("%q: missing host", s)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%q: must not carry user info, a query or a fragment", s)
	}
	return u, nil
}

// loopbackLiteral reports whether host is a loopback IP literal.
func loopbackLiteral(host string) bool {
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// upstreamPort is u's port, or its scheme's default.
func upstreamPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}

package egress

import (
	"net/http"
	"strings"
)

// apiCall is one request the gateway forwards: a method and a path pattern
// below the vendor's API root. A segment "{}" stands for one identifier (a
// model name); "{}:verb" for an identifier followed by ":verb", as in
// Gemini's "models/gemini-2.5-pro:generateContent".
type apiCall struct {
	method, pattern string
}

// apiCalls are the only requests the gateway forwards, per vendor: what the
// agent CLIs need to talk to their model (see DESIGN.md, "Agent CLIs behind
// the credential gateway"). Anything else the real key could do (files,
// batches, fine-tuning, admin keys, the Realtime API) is refused, so a
// sandbox holding the session token can spend tokens but not reach the
// account behind the key.
var apiCalls = map[Vendor][]apiCall{
	// Claude Code: /v1/messages?beta=true, token counting, model lookup.
	Anthropic: {
		{http.MethodPost, "/v1/messages"},
		{http.MethodPost, "/v1/messages/count_tokens"},
		{http.MethodGet, "/v1/models"},
		{http.MethodGet, "/v1/models/{}"},
	},
	// Codex: the Responses API (streamed over HTTP, never a WebSocket),
	// its compaction call, and the model list.
	OpenAI: {
		{http.MethodPost, "/v1/responses"},
		{http.MethodPost, "/v1/responses/compact"},
		{http.MethodGet, "/v1/models"},
		{http.MethodGet, "/v1/models/{}"},
	},
	// Gemini CLI: generation (streamed with ?alt=sse), token counting and
	// model lookup.
	Gemini: {
		{http.MethodPost, "/v1beta/models/{}:streamGenerateContent"},
		{http.MethodPost, "/v1beta/models/{}:generateContent"},
		{http.MethodPost, "/v1beta/models/{}:countTokens"},
		{http.MethodGet, "/v1beta/models"},
		{http.MethodGet, "/v1beta/models/{}"},
	},
}

// allowsCall reports whether v's API may be called with method on path (the
// decoded path below the vendor's prefix). Matching is exact, segment by
// segment: no prefix match, no "." or ".." segment, no empty segment, and an
// identifier only of letters, digits, '.', '-' and '_', so that what is
// forwarded is exactly what was checked, whatever the upstream normalises.
func allowsCall(v Vendor, method, path string) bool {
	for _, c := range apiCalls[v] {
		if c.method == method && matchPath(c.pattern, path) {
			return true
		}
	}
	return false
}

func matchPath(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		x := xs[i]
		id, verb, isID := strings.Cut(p, "{}")
		switch {
		case !isID:
			if x != p {
				return false
			}
		case id != "":
			// "{}" only ever starts a segment.
			return false
		default:
			name, ok := strings.CutSuffix(x, verb)
			if !ok || !isIdentifier(name) {
				return false
			}
		}
	}
	return true
}

// isIdentifier accepts model names such as "claude-sonnet-4-5-20250929" and
// "gemini-2.5-pro".
func isIdentifier(s string) bool {
	if s == "" || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// apiCallList describes v's allowed calls for a refusal message.
func apiCallList(v Vendor) string {
	s := make([]string, len(apiCalls[v]))
	for i, c := range apiCalls[v] {
		s[i] = c.method + " " + strings.ReplaceAll(c.pattern, "{}", "<model>")
	}
	return strings.Join(s, ", ")
}

package egress

import (
	"bufio"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

const (
	testToken = "0123456789abcdef0123456789abcdef-session"
	wrongTok  = "0123456789abcdef0123456789abcdef-session-2"
)

var realKeys = map[Vendor]string{
	Anthropic: "sk-ant-real-key",
	OpenAI:    "sk-openai-real-key",
	Gemini:    "AIza-real-key",
}

// seenRequest is what the fake vendor API received.
type seenRequest struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

// fakeAPI is a TLS server standing in for the vendors' APIs.
type fakeAPI struct {
	srv    *httptest.Server
	seen   chan seenRequest
	hits   atomic.Int64
	caFile string
}

func startFakeAPI(t *testing.T, h http.HandlerFunc) *fakeAPI {
	t.Helper()
	f := &fakeAPI{seen: make(chan seenRequest, 16)}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		f.seen <- seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)}
		if h != nil {
			h(w, r)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	// Handshakes the tests make fail on purpose are not worth a log line.
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.caFile = filepath.Join(t.TempDir(), "ca.pem")
	err := os.WriteFile(f.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o600)
	assert.NilError(t, err)
	return f
}

type testGateway struct {
	url  string
	gw   *Gateway
	logs *logBuffer
	// stop waits for every request to finish, so that all are recorded.
	stop func()
}

func startGateway(t *testing.T, api *fakeAPI, vendors ...Vendor) *testGateway {
	t.Helper()
	roots, err := LoadRootCAs(api.caFile)
	assert.NilError(t, err)
	var ups []Upstream
	for _, v := range vendors {
		ups = append(ups, Upstream{Vendor: v, URL: api.srv.URL, Key: realKeys[v]})
	}
	rec, logs := newTestRecorder()
	gw, err := NewGateway(GatewayConfig{Token: testToken, Upstreams: ups, Recorder: rec, RootCAs: roots})
	assert.NilError(t, err)
	srv := httptest.NewServer(gw)
	stop := func() { srv.Close(); gw.Close() }
	t.Cleanup(stop)
	return &testGateway{url: srv.URL, gw: gw, logs: logs, stop: stop}
}

func TestGatewayForwardsWithRealKey(t *testing.T) {
	api := startFakeAPI(t, nil)
	tg := startGateway(t, api, Vendors...)
	tests := []struct {
		name      string
		vendor    Vendor
		method    string
		path      string // after the base URL
		header    map[string]string
		wantPath  string
		wantQuery string
		wantAuth  map[string]string // credential headers upstream must see
	}{
		{
			name: "anthropic x-api-key", vendor: Anthropic, method: "POST", path: "/v1/messages?beta=true",
			header:   map[string]string{"X-Api-Key": testToken, "Anthropic-Version": "2023-06-01", "Anthropic-Beta": "tools-2024-05-16"},
			wantPath: "/v1/messages", wantQuery: "beta=true",
			wantAuth: map[string]string{"X-Api-Key": realKeys[Anthropic], "Authorization": ""},
		},
		{
			name: "anthropic bearer", vendor: Anthropic, method: "POST", path: "/v1/messages",
			header:   map[string]string{"Authorization": "Bearer " + testToken},
			wantPath: "/v1/messages",
			wantAuth: map[string]string{"X-Api-Key": realKeys[Anthropic], "Authorization": ""},
		},
		{
			name: "openai bearer", vendor: OpenAI, method: "POST", path: "/v1/responses",
			header:   map[string]string{"Authorization": "bearer " + testToken},
			wantPath: "/v1/responses",
			wantAuth: map[string]string{"Authorization": "Bearer " + realKeys[OpenAI], "X-Api-Key": ""},
		},
		{
			name: "gemini header", vendor: Gemini, method: "POST", path: "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
			header:   map[string]string{"X-Goog-Api-Key": testToken},
			wantPath: "/v1beta/models/gemini-2.5-pro:streamGenerateContent", wantQuery: "alt=sse",
			wantAuth: map[string]string{"X-Goog-Api-Key": realKeys[Gemini], "Authorization": ""},
		},
		{
			name: "gemini query key", vendor: Gemini, method: "GET", path: "/v1beta/models?key=" + testToken + "&pageSize=5",
			wantPath: "/v1beta/models", wantQuery: "pageSize=5",
			wantAuth: map[string]string{"X-Goog-Api-Key": realKeys[Gemini]},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, tc.method, tc.vendor.BaseURL(tg.url)+tc.path, `{"model":"m"}`, tc.header)
			assert.Equal(t, status, http.StatusOK, body)
			assert.Equal(t, body, `{"ok":true}`)

			got := <-api.seen
			assert.Equal(t, got.Path, tc.wantPath)
			assert.Equal(t, got.Query, tc.wantQuery)
			assert.Equal(t, got.Body, `{"model":"m"}`)
			for k, v := range tc.wantAuth {
				assert.Equal(t, got.Header.Get(k), v, k)
			}
			for k, v := range tc.header {
				if !strings.EqualFold(k, "Authorization") && !strings.HasSuffix(strings.ToLower(k), "api-key") {
					assert.Equal(t, got.Header.Get(k), v, "header %s not passed through", k)
				}
			}
			for k, vs := range got.Header {
				for _, v := range vs {
					assert.Assert(t, !strings.Contains(v, testToken), "session token reached upstream in %s", k)
				}
			}
			assert.Assert(t, !strings.Contains(got.Query, testToken))
		})
	}
	tg.stop()
	st := tg.gw.rec.Stats()
	assert.DeepEqual(t, st.Gateway.Hosts[string(Gemini)], Count{Allowed: 2, Bytes: 2 * int64(len(`{"model":"m"}`)+len(`{"ok":true}`))})
	assert.Equal(t, st.Gateway.Allowed, int64(len(tests)))
	logs := tg.logs.String()
	assert.Assert(t, !strings.Contains(logs, testToken), "token logged")
	for _, k := range realKeys {
		assert.Assert(t, !strings.Contains(logs, k), "real key logged")
	}
}

func TestGatewayRefuses(t *testing.T) {
	api := startFakeAPI(t, nil)
	tg := startGateway(t, api, Anthropic, OpenAI, Gemini)
	only := startGateway(t, api, Anthropic)
	tests := []struct {
		name   string
		base   string
		path   string
		header map[string]string
		status int
		reason string
	}{
		{"missing token", tg.url, "/anthropic/v1/messages", nil, 401, "missing session token"},
		{"wrong token", tg.url, "/anthropic/v1/messages", map[string]string{"X-Api-Key": wrongTok}, 401, "wrong session token"},
		{"real-looking key", tg.url, "/anthropic/v1/messages", map[string]string{"X-Api-Key": "sk-ant-real-key"}, 401, "wrong session token"},
		{"one good one wrong", tg.url, "/anthropic/v1/messages",
			map[string]string{"X-Api-Key": testToken, "Authorization": "Bearer " + wrongTok}, 401, "wrong session token"},
		{"basic scheme", tg.url, "/openai/v1/responses", map[string]string{"Authorization": "Basic " + testToken}, 401, "wrong session token"},
		{"token where openai does not look", tg.url, "/openai/v1/responses", map[string]string{"X-Api-Key": testToken}, 401, "missing session token"},
		{"wrong gemini query key", tg.url, "/gemini/v1beta/models?key=" + wrongTok, nil, 401, "wrong session token"},
		{"unknown vendor", tg.url, "/mistral/v1/chat", map[string]string{"Authorization": "Bearer " + testToken}, 404,
			`no route for "/mistral/v1/chat": use /<vendor>/... with a configured vendor (anthropic, openai, gemini)`},
		{"prefix must be a whole segment", tg.url, "/anthropicx/v1/messages", map[string]string{"X-Api-Key": testToken}, 404, "no route"},
		{"root", tg.url, "/", nil, 404, "no route"},
		{"unconfigured vendor", only.url, "/openai/v1/responses", map[string]string{"Authorization": "Bearer " + testToken}, 404,
			`no route for "/openai/v1/responses": use /<vendor>/... with a configured vendor (anthropic)`},
		{"websocket", tg.url, "/openai/v1/responses",
			map[string]string{"Authorization": "Bearer " + testToken, "Connection": "Upgrade", "Upgrade": "websocket",
				"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="},
			426, "protocol upgrades (WebSocket) are not supported"},
		{"h2c upgrade", tg.url, "/anthropic/v1/messages",
			map[string]string{"X-Api-Key": testToken, "Connection": "keep-alive, upgrade", "Upgrade": "h2c"}, 426, "protocol upgrades"},
		{"connection upgrade alone", tg.url, "/anthropic/v1/messages",
			map[string]string{"X-Api-Key": testToken, "Connection": "keep-alive, Upgrade"}, 426, "protocol upgrades"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, http.MethodGet, tc.base+tc.path, "", tc.header)
			assert.Equal(t, status, tc.status)
			assert.Assert(t, is.Contains(body, "sandbox gateway: "+tc.reason))
		})
	}
	assert.Equal(t, api.hits.Load(), int64(0), "a refused request was forwarded")

	tg.stop()
	st := tg.gw.rec.Stats()
	assert.Equal(t, st.Gateway.Allowed, int64(0))
	assert.Equal(t, st.Gateway.Hosts[string(Anthropic)].Denied, int64(6))
	assert.Equal(t, st.Gateway.Hosts[keyMalformed].Denied, int64(3))
	events := tg.logs.events(t)
	assert.Equal(t, events[1]["reason"], "wrong session token")
	assert.Equal(t, events[1]["status"], float64(401))
	assert.Equal(t, events[1]["decision"], "deny")
	assert.Equal(t, events[1]["host"], "anthropic")
	assert.Equal(t, events[1]["path"], "/anthropic/v1/messages")
	assert.Assert(t, !strings.Contains(tg.logs.String(), testToken))
	assert.Assert(t, !strings.Contains(tg.logs.String(), wrongTok))
}

// A streamed (SSE) response reaches the client event by event: the fake API
// sends the second event only after the client has read the first, so a
// gateway that buffered would deadlock until the test's deadline.
func TestGatewayStreamsSSEUnbuffered(t *testing.T) {
	firstRead := make(chan struct{})
	api := startFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: message_start\ndata: {}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-firstRead:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "event: message_stop\ndata: {}\n\n")
	})
	tg := startGateway(t, api, Anthropic)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, Anthropic.BaseURL(tg.url)+"/v1/messages?beta=true", strings.NewReader("{}"))
	assert.NilError(t, err)
	req.Header.Set("X-Api-Key", testToken)
	resp, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, resp.Header.Get("Content-Type"), "text/event-stream")
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	assert.NilError(t, err, "first event did not arrive before the stream ended")
	assert.Equal(t, line, "event: message_start\n")
	close(firstRead)
	rest, err := io.ReadAll(br)
	assert.NilError(t, err)
	assert.Equal(t, string(rest), "data: {}\n\nevent: message_stop\ndata: {}\n\n")
	<-api.seen
}

func TestGatewayUpstreamFailureIs502(t *testing.T) {
	api := startFakeAPI(t, nil)
	tg := startGateway(t, api, OpenAI)
	api.srv.Close()
	status, body := call(t, http.MethodPost, OpenAI.BaseURL(tg.url)+"/v1/responses", "", map[string]string{"Authorization": "Bearer " + testToken})
	assert.Equal(t, status, http.StatusBadGateway)
	assert.Assert(t, is.Contains(body, "sandbox gateway: "))
	tg.stop()
	e := tg.logs.events(t)[0]
	assert.Equal(t, e["decision"], "allow")
	assert.Equal(t, e["status"], float64(502))
	assert.Assert(t, e["reason"] != "")
}

// The upstream certificate is verified: without the test CA the gateway
// refuses to hand the key to the server.
func TestGatewayVerifiesUpstreamCertificate(t *testing.T) {
	api := startFakeAPI(t, nil)
	rec, _ := newTestRecorder()
	gw, err := NewGateway(GatewayConfig{Token: testToken, Recorder: rec,
		Upstreams: []Upstream{{Vendor: Anthropic, URL: api.srv.URL, Key: "k"}}})
	assert.NilError(t, err)
	srv := httptest.NewServer(gw)
	defer srv.Close()
	status, body := call(t, http.MethodPost, Anthropic.BaseURL(srv.URL)+"/v1/messages", "", map[string]string{"X-Api-Key": testToken})
	assert.Equal(t, status, http.StatusBadGateway)
	assert.Assert(t, is.Contains(body, "certificate"))
	assert.Equal(t, api.hits.Load(), int64(0))
}

func TestGatewayHealth(t *testing.T) {
	api := startFakeAPI(t, nil)
	tg := startGateway(t, api, Gemini)
	status, body := call(t, http.MethodGet, tg.url+HealthPath, "", nil)
	assert.Equal(t, status, http.StatusOK)
	assert.Equal(t, body, "ok\n")
}

func TestNewGatewayErrors(t *testing.T) {
	ok := Upstream{Vendor: Anthropic, Key: "k"}
	tests := []struct {
		name string
		cfg  GatewayConfig
		err  string
	}{
		{"short token", GatewayConfig{Token: "abc", Upstreams: []Upstream{ok}}, "session token is 3 characters; want at least 32"},
		{"token with space", GatewayConfig{Token: testToken + " x", Upstreams: []Upstream{ok}}, "session token has a character other than letters, digits, '-' and '_' at position 40"},
		{"no upstream", GatewayConfig{Token: testToken}, "no upstream configured"},
		{"unknown vendor", GatewayConfig{Token: testToken, Upstreams: []Upstream{{Vendor: "mistral", Key: "k"}}},
			`unknown vendor "mistral" (want one of anthropic, openai, gemini)`},
		{"twice", GatewayConfig{Token: testToken, Upstreams: []Upstream{ok, ok}}, "anthropic: configured twice"},
		{"no key", GatewayConfig{Token: testToken, Upstreams: []Upstream{{Vendor: OpenAI}}}, "openai: empty API key"},
		{"plain http", GatewayConfig{Token: testToken, Upstreams: []Upstream{{Vendor: Gemini, Key: "k", URL: "http://api.example.com"}}},
			`gemini upstream: "http://api.example.com": scheme must be https (http only for a loopback address`},
		{"no host", GatewayConfig{Token: testToken, Upstreams: []Upstream{{Vendor: Gemini, Key: "k", URL: "https:///v1"}}}, "missing host"},
		{"query", GatewayConfig{Token: testToken, Upstreams: []Upstream{{Vendor: Gemini, Key: "k", URL: "https://api.example.com/?key=x"}}},
			"must not carry user info, a query or a fragment"},
		{"user info", GatewayConfig{Token: testToken, Upstreams: []Upstream{{Vendor: Gemini, Key: "k", URL: "https://u:p@api.example.com"}}},
			"must not carry user info"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewGateway(tc.cfg)
			assert.ErrorContains(t, err, tc.err)
		})
	}
}

func TestLoadRootCAsErrors(t *testing.T) {
	_, err := LoadRootCAs(filepath.Join(t.TempDir(), "missing.pem"))
	assert.ErrorContains(t, err, "read CA file")
	bad := filepath.Join(t.TempDir(), "bad.pem")
	assert.NilError(t, os.WriteFile(bad, []byte("not a certificate"), 0o600))
	_, err = LoadRootCAs(bad)
	assert.ErrorContains(t, err, "no PEM certificates found")
}

func TestBaseURL(t *testing.T) {
	assert.Equal(t, Anthropic.BaseURL("http://10.0.0.2:8080/"), "http://10.0.0.2:8080/anthropic")
	assert.Equal(t, OpenAI.BaseURL("http://10.0.0.2:8080"), "http://10.0.0.2:8080/openai")
	assert.Equal(t, Gemini.BaseURL("http://gw:8080"), "http://gw:8080/gemini")
}

// call sends one request to the gateway and returns the status and body.
func call(t *testing.T, method, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	assert.NilError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	assert.NilError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	assert.NilError(t, err)
	return resp.StatusCode, string(b)
}

// The gateway forwards the calls the agent CLIs make to their model and
// refuses everything else the real key could do, with 403 and a logged
// deny, before anything reaches the upstream.
func TestGatewayForwardsOnlyTheAgentsAPICalls(t *testing.T) {
	api := startFakeAPI(t, nil)
	tg := startGateway(t, api, Vendors...)
	creds := map[Vendor]map[string]string{
		Anthropic: {"X-Api-Key": testToken, "Anthropic-Version": "2023-06-01", "Anthropic-Beta": "interleaved-thinking-2025-05-14"},
		OpenAI:    {"Authorization": "Bearer " + testToken},
		Gemini:    {"X-Goog-Api-Key": testToken},
	}
	tests := []struct {
		vendor       Vendor
		method, path string
		// upstream is the path the API must see; empty means refused.
		upstream string
	}{
		{Anthropic, "POST", "/v1/messages?beta=true", "/v1/messages"},
		{Anthropic, "POST", "/v1/messages/count_tokens?beta=true", "/v1/messages/count_tokens"},
		{Anthropic, "GET", "/v1/models", "/v1/models"},
		{Anthropic, "GET", "/v1/models/claude-sonnet-4-5-20250929", "/v1/models/claude-sonnet-4-5-20250929"},
		{Anthropic, "GET", "/v1/messages", ""},
		{Anthropic, "POST", "/v1/messages/batches", ""},
		{Anthropic, "POST", "/v1/files", ""},
		{Anthropic, "GET", "/v1/organizations/api_keys", ""},
		{Anthropic, "DELETE", "/v1/models/claude-sonnet-4-5", ""},
		{Anthropic, "POST", "/v1/messages/", ""},
		{Anthropic, "POST", "/v1//messages", ""},
		{Anthropic, "POST", "/V1/messages", ""},
		{Anthropic, "POST", "/v1/messages.json", ""},
		{Anthropic, "GET", "/v1/models/%2E%2E", ""},
		{Anthropic, "GET", "/v1/models/..%2Ffiles", ""},
		{Anthropic, "GET", "/v1/models/.hidden", ""},
		{OpenAI, "POST", "/v1/responses", "/v1/responses"},
		{OpenAI, "POST", "/v1/responses/compact", "/v1/responses/compact"},
		{OpenAI, "GET", "/v1/models?client_version=0.169.0", "/v1/models"},
		{OpenAI, "POST", "/v1/chat/completions", ""},
		{OpenAI, "GET", "/v1/responses/resp_123", ""},
		{OpenAI, "POST", "/v1/files", ""},
		{OpenAI, "POST", "/v1/fine_tuning/jobs", ""},
		{OpenAI, "DELETE", "/v1/models/ft-model", ""},
		{OpenAI, "POST", "/v1/realtime/sessions", ""},
		{Gemini, "POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", "/v1beta/models/gemini-2.5-pro:streamGenerateContent"},
		{Gemini, "POST", "/v1beta/models/gemini-2.5-flash:generateContent", "/v1beta/models/gemini-2.5-flash:generateContent"},
		{Gemini, "POST", "/v1beta/models/gemini-2.5-pro:countTokens", "/v1beta/models/gemini-2.5-pro:countTokens"},
		// A client escaping the colon gets the same call, forwarded as
		// checked.
		{Gemini, "POST", "/v1beta/models/gemini-2.5-pro%3AgenerateContent", "/v1beta/models/gemini-2.5-pro:generateContent"},
		{Gemini, "GET", "/v1beta/models", "/v1beta/models"},
		{Gemini, "GET", "/v1beta/models/gemini-2.5-pro", "/v1beta/models/gemini-2.5-pro"},
		{Gemini, "POST", "/v1beta/models/gemini-2.5-pro:embedContent", ""},
		{Gemini, "POST", "/v1beta/models/a:b:generateContent", ""},
		{Gemini, "POST", "/v1beta/models/:generateContent", ""},
		{Gemini, "POST", "/v1beta/files", ""},
		{Gemini, "POST", "/v1beta/cachedContents", ""},
		{Gemini, "POST", "/v1beta/tunedModels/x:generateContent", ""},
		{Gemini, "POST", "/upload/v1beta/files", ""},
		{Gemini, "GET", "/v1beta/models/gemini-2.5-pro:generateContent", ""},
	}
	refused := 0
	for _, tc := range tests {
		t.Run(string(tc.vendor)+" "+tc.method+" "+tc.path, func(t *testing.T) {
			hits := api.hits.Load()
			status, body := call(t, tc.method, tc.vendor.BaseURL(tg.url)+tc.path, "{}", creds[tc.vendor])
			if tc.upstream == "" {
				refused++
				assert.Equal(t, status, http.StatusForbidden, body)
				assert.Assert(t, is.Contains(body, "sandbox gateway: "+tc.method+" "))
				assert.Assert(t, is.Contains(body, " is not a call the gateway forwards to "+string(tc.vendor)+" (only "))
				assert.Equal(t, api.hits.Load(), hits, "a refused call reached the API")
				return
			}
			assert.Equal(t, status, http.StatusOK, body)
			got := <-api.seen
			assert.Equal(t, got.Method, tc.method)
			assert.Equal(t, got.Path, tc.upstream)
			for k, v := range creds[tc.vendor] {
				if strings.HasPrefix(k, "Anthropic-") {
					assert.Equal(t, got.Header.Get(k), v, "header %s not passed through", k)
				}
			}
		})
	}
	tg.stop()
	var denied int
	for _, e := range tg.logs.events(t) {
		if e["decision"] == "deny" {
			denied++
			assert.Equal(t, e["status"], float64(403))
		}
	}
	assert.Equal(t, denied, refused)
	assert.Equal(t, apiCallList(Gemini), "POST /v1beta/models/<model>:streamGenerateContent, POST /v1beta/models/<model>:generateContent, "+
		"POST /v1beta/models/<model>:countTokens, GET /v1beta/models, GET /v1beta/models/<model>")
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/org/sandbox-action/internal/syncbuf"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/org/sandbox-action/pkg/egress"
	"github.com/org/sandbox-action/pkg/outcome"
)

const (
	proxyTestToken = "feedfacefeedfacefeedfacefeedface0123"
	proxyTestKey   = "sk-ant-proxy-test-real-key"
)

// lockedBuffer is written by goroutines while the test reads it.
type lockedBuffer = syncbuf.Buffer

// clearProxyEnv isolates a test from keys in the developer's environment.
func clearProxyEnv(t *testing.T) {
	for _, name := range []string{"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", egress.TokenEnv} {
		t.Setenv(name, "")
	}
}

// listeningLine waits for the command's "listening" log line.
func listeningLine(t *testing.T, stderr *lockedBuffer, exited <-chan int) map[string]any {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for line := range strings.Lines(stderr.String()) {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "listening" {
				return m
			}
		}
		select {
		case code := <-exited:
			t.Fatalf("sandbox proxy exited with %d before listening: %s", code, stderr)
		case <-deadline:
			t.Fatalf("sandbox proxy did not log that it listens: %s", stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestProxyCommandServesAndStops(t *testing.T) {
	clearProxyEnv(t)
	seen := make(chan [2]string, 2)
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- [2]string{r.Header.Get("X-Api-Key"), r.URL.Path}
		io.WriteString(w, `{"type":"message"}`)
	}))
	defer api.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	assert.NilError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw}), 0o600))
	t.Setenv("ANTHROPIC_API_KEY", proxyTestKey)
	t.Setenv(egress.TokenEnv, proxyTestToken)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	exited := make(chan int, 1)
	go func() {
		exited <- realMain(ctx, []string{"proxy",
			"--listen", "127.0.0.1:0", "--gateway-listen", "127.0.0.1:0",
			"--allow", "api.example.com,*.example.org", "--allow", "10.9.9.9:8443", "--allow", "localhost:9",
			"--upstream", "anthropic=" + api.URL, "--ca-file", caFile,
			"--shutdown-timeout", "500ms",
		}, &streams{in: strings.NewReader(""), out: stdout, err: stderr})
	}()
	ready := listeningLine(t, stderr, exited)
	assert.Equal(t, ready["allow"], "api.example.com,*.example.org,10.9.9.9:8443,localhost:9")
	assert.DeepEqual(t, ready["vendors"], []any{"anthropic"})
	proxyAddr, gwAddr := ready["proxy"].(string), ready["gateway"].(string)

	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	assert.NilError(t, egress.WaitReady(wctx, "http://"+proxyAddr+egress.HealthPath, 0))
	assert.NilError(t, egress.WaitReady(wctx, "http://"+gwAddr+egress.HealthPath, 0))

	// A denied CONNECT.
	c, err := net.Dial("tcp", proxyAddr)
	assert.NilError(t, err)
	io.WriteString(c, "CONNECT evil.example.net:443 HTTP/1.1\r\nHost: evil.example.net:443\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	assert.NilError(t, err)
	assert.Equal(t, resp.StatusCode, http.StatusForbidden)
	c.Close()

	// An allowlisted name that resolves to loopback: refused by address.
	c, err = net.Dial("tcp", proxyAddr)
	assert.NilError(t, err)
	io.WriteString(c, "CONNECT localhost:9 HTTP/1.1\r\nHost: localhost:9\r\n\r\n")
	resp, err = http.ReadResponse(bufio.NewReader(c), nil)
	assert.NilError(t, err)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, resp.StatusCode, http.StatusForbidden)
	assert.Assert(t, is.Contains(string(body), "which is a loopback address"))
	c.Close()

	// The gateway with the session token, then with a wrong one.
	base := egress.Anthropic.BaseURL("http://" + gwAddr)
	for _, tc := range []struct {
		key    string
		status int
	}{{proxyTestToken, http.StatusOK}, {proxyTestToken + "x", http.StatusUnauthorized}} {
		req, err := http.NewRequest(http.MethodPost, base+"/v1/messages", strings.NewReader("{}"))
		assert.NilError(t, err)
		req.Header.Set("X-Api-Key", tc.key)
		resp, err := http.DefaultClient.Do(req)
		assert.NilError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, resp.StatusCode, tc.status)
	}
	http.DefaultClient.CloseIdleConnections()
	assert.Equal(t, <-seen, [2]string{proxyTestKey, "/v1/messages"})
	assert.Equal(t, len(seen), 0, "the wrong token was forwarded")

	cancel()
	select {
	case code := <-exited:
		assert.Equal(t, code, 0, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox proxy did not stop after cancel")
	}
	var stats egress.Stats
	assert.NilError(t, json.Unmarshal([]byte(stdout.String()), &stats))
	assert.Equal(t, strings.Count(stdout.String(), "\n"), 1, "stdout must be the one stats line")
	assert.DeepEqual(t, stats.Proxy.Hosts["evil.example.net"], egress.Count{Denied: 1})
	assert.DeepEqual(t, stats.Proxy.Hosts["localhost"], egress.Count{Denied: 1})
	assert.Equal(t, stats.Gateway.Hosts["anthropic"].Allowed, int64(1))
	assert.Equal(t, stats.Gateway.Hosts["anthropic"].Denied, int64(1))

	logs := stderr.String()
	assert.Assert(t, is.Contains(logs, `"msg":"stopped"`))
	assert.Assert(t, !strings.Contains(logs, proxyTestToken), "session token logged")
	assert.Assert(t, !strings.Contains(logs, proxyTestKey), "real key logged")
}

func TestProxyCommandErrors(t *testing.T) {
	missingCA := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		err  string
	}{
		{"bare star", []string{"--allow", "*"}, nil, `allowlist entry "*": a bare * would allow every host`},
		{"bad entry", []string{"--allow", "api.example.com/v1"}, nil, `allowlist entry "api.example.com/v1": invalid host name`},
		{"bad port", []string{"--allow", "api.example.com", "--port", "0"}, nil, "default port 0: out of range 1-65535"},
		{"bad listen", []string{"--listen", "127.0.0.1:99999"}, nil, "proxy: listen tcp: address 99999: invalid port"},
		{"positional", []string{"api.example.com"}, nil, `unknown command "api.example.com" for "sandbox proxy"`},
		{"upstream without gateway", []string{"--upstream", "anthropic=https://api.example.com"}, nil,
			"--upstream and --key-env need --gateway-listen"},
		{"no token", []string{"--gateway-listen", "127.0.0.1:0"}, map[string]string{"ANTHROPIC_API_KEY": "k"},
			"gateway: session token: $SANDBOX_SESSION_TOKEN is not set"},
		{"weak token", []string{"--gateway-listen", "127.0.0.1:0"}, map[string]string{"ANTHROPIC_API_KEY": "k", egress.TokenEnv: "secret"},
			"gateway: $SANDBOX_SESSION_TOKEN: session token is 6 characters; want at least 32"},
		{"no keys", []string{"--gateway-listen", "127.0.0.1:0"}, map[string]string{egress.TokenEnv: proxyTestToken},
			"gateway: no API key set in $ANTHROPIC_API_KEY, $OPENAI_API_KEY, $GEMINI_API_KEY"},
		{"renamed key missing", []string{"--gateway-listen", "127.0.0.1:0", "--key-env", "openai=CODEX_API_KEY"},
			map[string]string{egress.TokenEnv: proxyTestToken, "OPENAI_API_KEY": "k"},
			"gateway: no API key set in $ANTHROPIC_API_KEY, $CODEX_API_KEY, $GEMINI_API_KEY"},
		{"upstream without key", []string{"--gateway-listen", "127.0.0.1:0", "--upstream", "gemini=https://g.example.com"},
			map[string]string{egress.TokenEnv: proxyTestToken, "ANTHROPIC_API_KEY": "k"},
			"gateway: --upstream gemini: no API key in $GEMINI_API_KEY"},
		{"unknown vendor", []string{"--gateway-listen", "127.0.0.1:0", "--upstream", "mistral=https://m.example.com"}, nil,
			`gateway: --upstream: unknown vendor "mistral" (want one of anthropic, openai, gemini)`},
		{"bad env name", []string{"--gateway-listen", "127.0.0.1:0", "--key-env", "openai=OPENAI KEY"}, nil,
			`gateway: --key-env openai: invalid variable name "OPENAI KEY"`},
		{"bad token env name", []string{"--gateway-listen", "127.0.0.1:0", "--token-env", "-x"}, map[string]string{"ANTHROPIC_API_KEY": "k"},
			`gateway: --token-env: invalid variable name "-x"`},
		{"plain http upstream", []string{"--gateway-listen", "127.0.0.1:0", "--upstream", "anthropic=http://api.example.com"},
			map[string]string{egress.TokenEnv: proxyTestToken, "ANTHROPIC_API_KEY": "k"},
			`gateway: anthropic upstream: "http://api.example.com": scheme must be https`},
		{"missing CA file", []string{"--gateway-listen", "127.0.0.1:0", "--ca-file", missingCA},
			map[string]string{egress.TokenEnv: proxyTestToken, "ANTHROPIC_API_KEY": "k"}, "gateway: read CA file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearProxyEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := realMain(context.Background(), append([]string{"proxy"}, tc.args...), &streams{in: strings.NewReader(""), out: &stdout, err: &stderr})
			assert.Equal(t, code, 1)
			assert.Assert(t, is.Contains(stderr.String(), "sandbox: "+tc.err))
			assert.Equal(t, stdout.String(), "")
		})
	}
}

// egress.Command builds the proxy container's argv; the command must parse
// exactly what it builds.
func TestProxyCommandParsesEgressCommandArgs(t *testing.T) {
	c := egress.Command{
		Listen:             "unix:/run/sandbox/proxy.sock",
		CopyForwarder:      "/run/sandbox/forward",
		AddHosts:           map[string]string{"api.test": "10.0.0.9"},
		GatewayListen:      ":8080",
		Allow:              []string{"api.anthropic.com", "*.example.org:8443"},
		Ports:              []int{443},
		Upstreams:          map[egress.Vendor]string{egress.OpenAI: "https://o.example.com", egress.Anthropic: "https://a.example.com/base"},
		CAFile:             "/etc/sandbox/ca.pem",
		TestAnyDestination: true,
	}
	args := c.Args()
	assert.Equal(t, args[0], "proxy")
	cmd := newProxyCmd(&streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
	assert.NilError(t, cmd.ParseFlags(args[1:]))
	f := cmd.Flags()
	get := func(name string) string { return f.Lookup(name).Value.String() }
	assert.Equal(t, get("listen"), "unix:/run/sandbox/proxy.sock")
	assert.Equal(t, get("copy-forwarder"), "/run/sandbox/forward")
	assert.Equal(t, get("add-host"), "[api.test:10.0.0.9]")
	assert.Equal(t, get("gateway-listen"), ":8080")
	assert.Equal(t, get("allow"), "[api.anthropic.com,*.example.org:8443]")
	assert.Equal(t, get("port"), "[443]")
	assert.Equal(t, get("upstream"), "[anthropic=https://a.example.com/base,openai=https://o.example.com]")
	assert.Equal(t, get("ca-file"), "/etc/sandbox/ca.pem")
	assert.Equal(t, get(egress.TestAnyDestinationFlag), "true")
	assert.Assert(t, is.Len(cmd.Flags().Args(), 0))

	// Defaults: the conventional proxy port and nothing else.
	assert.DeepEqual(t, egress.Command{}.Args(), []string{"proxy"})
	cmd = newProxyCmd(&streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
	assert.NilError(t, cmd.ParseFlags(nil))
	assert.Equal(t, cmd.Flags().Lookup("listen").Value.String(), ":3128")
}

// The end of a private run lists what the proxy refused and the config line
// that would allow it, from the stats line the proxy printed.
func TestPrintEgressShowsTheDenyReport(t *testing.T) {
	rec := egress.NewRecorder(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	for _, e := range []egress.Event{
		{Component: "proxy", Method: "CONNECT", Host: "pypi.org", Port: 443, Entry: "pypi.org", Decision: egress.Deny},
		{Component: "proxy", Method: "CONNECT", Host: "pypi.org", Port: 443, Entry: "pypi.org", Decision: egress.Deny},
		{Component: "proxy", Method: "CONNECT", Host: "db.internal", Port: 5432, Entry: "db.internal:5432", Address: "172.17.0.3", Decision: egress.Deny},
		{Component: "proxy", Method: "CONNECT", Host: "api.anthropic.com", Port: 443, Decision: egress.Allow},
	} {
		rec.Record(e)
	}
	// Through the stats line, as the proxy prints it and the engine reads it.
	b, err := json.Marshal(rec.Stats())
	assert.NilError(t, err)
	st, err := egress.ParseStats(b)
	assert.NilError(t, err)
	var stderr bytes.Buffer
	printEgress(&streams{err: &stderr}, outcome.Outcome{Egress: &st})
	assert.Equal(t, stderr.String(), `sandbox: egress: proxy 1 allowed, 3 denied, 0 bytes (denied: db.internal×1, pypi.org×2); gateway 0 allowed, 0 denied, 0 bytes
sandbox: egress: the proxy refused 2 requests to 1 destination not in the allowlist:
  pypi.org:443 ×2 (in @pypi)
sandbox: egress: nothing was allowed for them; to allow them, set under network: in .github/sandbox.yml:
  allow: ["@pypi"]
sandbox: egress: the proxy refused 1 request to local addresses (allow such an address explicitly only if you mean it):
  db.internal:5432 → 172.17.0.3 ×1
`)
}

func TestProxyReadsItsSecretsFromADescriptor(t *testing.T) {
	for _, tc := range []struct {
		name, input, err string
		want             map[string]string
	}{
		{name: "entries", input: "SANDBOX_TEST_A=x=y\x00SANDBOX_TEST_B=line\nbreak\x00",
			want: map[string]string{"SANDBOX_TEST_A": "x=y", "SANDBOX_TEST_B": "line\nbreak"}},
		{name: "no terminator", input: "SANDBOX_TEST_A=1", want: map[string]string{"SANDBOX_TEST_A": "1"}},
		{name: "not NAME=VALUE", input: "SANDBOX_TEST_A\x00", err: "not NAME=VALUE"},
		{name: "bad name", input: "A B=1\x00", err: "not NAME=VALUE"},
		{name: "too much", input: strings.Repeat("x", maxEnvFD+1), err: "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name := range tc.want {
				t.Setenv(name, "")
			}
			r, w, err := os.Pipe()
			assert.NilError(t, err)
			go func() { io.WriteString(w, tc.input); w.Close() }()
			fd, err := syscall.Dup(int(r.Fd()))
			assert.NilError(t, err)
			r.Close()
			err = readEnv(fd)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NilError(t, err)
			for name, v := range tc.want {
				assert.Equal(t, os.Getenv(name), v)
			}
		})
	}
	assert.ErrorContains(t, readEnv(1), "inherited descriptor")
}

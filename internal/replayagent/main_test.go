package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/fs"
)

// The recordings live with their parser.
const recordingsDir = "../../pkg/agent/testdata"

type result struct {
	code           int
	stdout, stderr string
	sleeps         []time.Duration
}

// replayIn runs the program as argv in dir with env.
func replayIn(t *testing.T, dir string, env map[string]string, argv ...string) result {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errOut bytes.Buffer
	var r result
	r.code = run(argv, func(k string) string { return env[k] }, &out, &errOut,
		func(d time.Duration) { r.sleeps = append(r.sleeps, d) })
	r.stdout, r.stderr = out.String(), errOut.String()
	return r
}

func TestReplaysTheAgentsDefaultTranscript(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(recordingsDir, "gemini", "stream-json-tool-use-read-file-0.42.0.jsonl"))
	assert.NilError(t, err)
	dir := fs.NewDir(t, "recordings", fs.WithDir("gemini", fs.WithFile("default.jsonl", string(want))))

	r := replayIn(t, "", map[string]string{"REPLAY_DIR": dir.Path()}, "/usr/local/bin/gemini", "-o", "stream-json", "-p", "hi")
	assert.Equal(t, r.code, 0)
	assert.Equal(t, r.stdout, string(want))
	assert.Equal(t, r.stderr, `replayagent: argv ["/usr/local/bin/gemini","-o","stream-json","-p","hi"]`+"\n")
	// The default pace: one pause between each pair of lines, 20 to 50 ms.
	assert.Equal(t, len(r.sleeps), strings.Count(string(want), "\n")-1)
	for _, d := range r.sleeps {
		assert.Assert(t, d >= 20*time.Millisecond && d <= 50*time.Millisecond, d)
	}
}

func TestReplayOptions(t *testing.T) {
	transcript := filepath.Join(recordingsDir, "claude", "auth-failure-not-logged-in-2.1.141.jsonl")
	want, err := os.ReadFile(transcript)
	assert.NilError(t, err)
	abs, err := filepath.Abs(transcript)
	assert.NilError(t, err)

	r := replayIn(t, "", map[string]string{"REPLAY_TRANSCRIPT": abs, "REPLAY_DELAY": "7ms", "REPLAY_EXIT": "1"}, "anything")
	assert.Equal(t, r.code, 1)
	assert.Equal(t, r.stdout, string(want))
	assert.DeepEqual(t, r.sleeps, []time.Duration{7 * time.Millisecond, 7 * time.Millisecond})

	r = replayIn(t, "", map[string]string{"REPLAY_TRANSCRIPT": abs, "REPLAY_DELAY": "0"}, "claude")
	assert.Equal(t, len(r.sleeps), 0)
}

func TestReplayEdits(t *testing.T) {
	work := fs.NewDir(t, "workspace",
		fs.WithFile("notes.txt", "hello\n"),
		fs.WithFile("old.txt", "remove me"))
	edits := fs.NewFile(t, "edits.json", fs.WithContent(`[
		{"path": "notes.txt", "append": "second\n"},
		{"path": "old.txt", "delete": true},
		{"path": "src/new.go", "content": "package src\n"},
		{"path": "link", "symlink": "/etc/passwd"}
	]`))
	transcript := fs.NewFile(t, "t.jsonl", fs.WithContent("{\"type\":\"turn.started\"}\n{\"type\":\"turn.completed\"}\n"))

	for _, edits := range []string{edits.Path(), mustRead(t, edits.Path())} {
		dir := fs.NewDir(t, "ws")
		assert.NilError(t, os.CopyFS(dir.Path(), os.DirFS(work.Path())))
		r := replayIn(t, dir.Path(), map[string]string{"REPLAY_TRANSCRIPT": transcript.Path(), "REPLAY_EDITS": edits}, "codex")
		assert.Equal(t, r.code, 0, r.stderr)
		assert.Assert(t, fs.Equal(dir.Path(), fs.Expected(t,
			fs.WithFile("notes.txt", "hello\nsecond\n", fs.WithMode(0o644)),
			fs.WithDir("src", fs.WithMode(0o755), fs.WithFile("new.go", "package src\n", fs.WithMode(0o644))),
			fs.WithSymlink("link", "/etc/passwd"),
			fs.MatchAnyFileMode)))
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	assert.NilError(t, err)
	return string(b)
}

func TestReplayRejectsBadConfiguration(t *testing.T) {
	transcript := fs.NewFile(t, "t.jsonl", fs.WithContent("{}\n"))
	tests := []struct {
		name string
		env  map[string]string
		argv []string
		want string
	}{
		{"unknown name", nil, []string{"/bin/cursor"},
			`unknown agent "cursor": install as one of claude, codex, gemini, or set REPLAY_AGENT or REPLAY_TRANSCRIPT`},
		{"missing transcript", map[string]string{"REPLAY_DIR": "/nonexistent"}, []string{"claude"},
			"transcript: open /nonexistent/claude/default.jsonl: no such file or directory"},
		{"bad delay", map[string]string{"REPLAY_TRANSCRIPT": transcript.Path(), "REPLAY_DELAY": "50ms-20ms"}, []string{"claude"},
			`REPLAY_DELAY "50ms-20ms": want a duration such as 30ms, or a range such as 20ms-50ms`},
		{"bad exit", map[string]string{"REPLAY_TRANSCRIPT": transcript.Path(), "REPLAY_EXIT": "256"}, []string{"claude"},
			`REPLAY_EXIT "256": want an exit code from 0 to 255`},
		{"escaping edit", map[string]string{"REPLAY_TRANSCRIPT": transcript.Path(), "REPLAY_EDITS": `[{"path":"../etc/passwd","content":"x"}]`}, []string{"claude"},
			`REPLAY_EDITS[0]: path "../etc/passwd" must be relative and stay inside the working directory`},
		{"absolute edit", map[string]string{"REPLAY_TRANSCRIPT": transcript.Path(), "REPLAY_EDITS": `[{"path":"/etc/passwd","delete":true}]`}, []string{"claude"},
			`REPLAY_EDITS[0]: path "/etc/passwd" must be relative and stay inside the working directory`},
		{"two operations", map[string]string{"REPLAY_TRANSCRIPT": transcript.Path(), "REPLAY_EDITS": `[{"path":"a","content":"x","delete":true}]`}, []string{"claude"},
			`REPLAY_EDITS[0] (a): set exactly one of content, append, delete, symlink`},
		{"unknown field", map[string]string{"REPLAY_TRANSCRIPT": transcript.Path(), "REPLAY_EDITS": `[{"path":"a","contents":"x"}]`}, []string{"claude"},
			`REPLAY_EDITS: json: unknown field "contents"`},
		{"model call without a base URL", map[string]string{"REPLAY_TRANSCRIPT": transcript.Path(), "REPLAY_MODEL_CALL": "1", "ANTHROPIC_API_KEY": "k"}, []string{"claude"},
			`REPLAY_MODEL_CALL: ANTHROPIC_BASE_URL is not set`},
		{"codex model call without a provider", map[string]string{"REPLAY_TRANSCRIPT": transcript.Path(), "REPLAY_MODEL_CALL": "1", "CODEX_API_KEY": "k"}, []string{"codex", "exec"},
			`REPLAY_MODEL_CALL: no base_url in codex's -c model_providers argument`},
		{"model call yes", map[string]string{"REPLAY_TRANSCRIPT": transcript.Path(), "REPLAY_MODEL_CALL": "yes"}, []string{"claude"},
			`REPLAY_MODEL_CALL "yes": want 1 or 0`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := replayIn(t, "", tc.env, tc.argv...)
			assert.Equal(t, r.code, 2)
			assert.Equal(t, r.stdout, "")
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			assert.Equal(t, lines[len(lines)-1], "replayagent: "+tc.want)
		})
	}
}

// REPLAY_FETCH goes through the proxy the environment names, as an agent's
// tools do, and reports each answer on stderr; NO_PROXY hosts go direct.
func TestFetchThroughTheProxy(t *testing.T) {
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.String())
		http.Error(w, "denied by the allowlist", http.StatusForbidden)
	}))
	defer proxy.Close()
	direct := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer direct.Close()
	directHost := strings.TrimPrefix(direct.URL, "http://")

	transcript, err := filepath.Abs(filepath.Join(recordingsDir, "claude", "auth-failure-not-logged-in-2.1.141.jsonl"))
	assert.NilError(t, err)
	r := replayIn(t, "", map[string]string{
		"REPLAY_TRANSCRIPT": transcript,
		"REPLAY_DELAY":      "0",
		"REPLAY_FETCH":      "http://outside.test/secret $MODEL_URL/model",
		"MODEL_URL":         direct.URL,
		"http_proxy":        proxy.URL,
		"NO_PROXY":          "localhost," + directHost,
	}, "claude")
	assert.Equal(t, r.code, 0, r.stderr)
	assert.Check(t, is.DeepEqual(seen, []string{"GET http://outside.test/secret"}))
	assert.Check(t, is.Contains(r.stderr, "replayagent: fetch http://outside.test/secret: 403 Forbidden\n"))
	assert.Check(t, is.Contains(r.stderr, "replayagent: fetch "+direct.URL+"/model: 200 OK\n"))

	bad := replayIn(t, "", map[string]string{"REPLAY_TRANSCRIPT": transcript, "REPLAY_FETCH": "outside.test"}, "claude")
	assert.Equal(t, bad.code, 2)
	assert.Check(t, is.Contains(bad.stderr, `REPLAY_FETCH "outside.test": want http:// or https:// URLs`))
}

// REPLAY_STDERR is the last thing on stderr, as a failing CLI's error is.
func TestStderrLast(t *testing.T) {
	transcript, err := filepath.Abs(filepath.Join(recordingsDir, "claude", "auth-failure-not-logged-in-2.1.141.jsonl"))
	assert.NilError(t, err)
	r := replayIn(t, "", map[string]string{"REPLAY_TRANSCRIPT": transcript, "REPLAY_DELAY": "0", "REPLAY_EXIT": "1",
		"REPLAY_STDERR": "Error: 529 overloaded_error"}, "claude")
	assert.Equal(t, r.code, 1)
	assert.Check(t, strings.HasSuffix(r.stderr, "\nError: 529 overloaded_error\n"), r.stderr)
}

// REPLAY_MODEL_CALL calls the model API as each CLI does: its base URL and
// its credential header, straight to a loopback gateway (NO_PROXY) while
// other traffic goes through the proxy.
func TestModelCallAsTheCLIMakesIt(t *testing.T) {
	type seenReq struct{ method, path, cred string }
	var seen []seenReq
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cred := r.Header.Get("X-Api-Key") + r.Header.Get("Authorization") + r.Header.Get("X-Goog-Api-Key")
		seen = append(seen, seenReq{r.Method, r.URL.Path, cred})
		_, _ = io.WriteString(w, "{}")
	}))
	defer gw.Close()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the model call went through the proxy: %s", r.URL)
	}))
	defer proxy.Close()
	transcript, err := filepath.Abs(filepath.Join(recordingsDir, "claude", "auth-failure-not-logged-in-2.1.141.jsonl"))
	assert.NilError(t, err)
	env := map[string]string{
		"REPLAY_TRANSCRIPT": transcript, "REPLAY_DELAY": "0", "REPLAY_MODEL_CALL": "1",
		"HTTP_PROXY": proxy.URL, "NO_PROXY": "localhost,127.0.0.1,::1",
		"ANTHROPIC_BASE_URL": gw.URL + "/anthropic", "ANTHROPIC_API_KEY": "tok-a",
		"CODEX_API_KEY":          "tok-o",
		"GOOGLE_GEMINI_BASE_URL": gw.URL + "/gemini", "GEMINI_API_KEY": "tok-g",
	}
	for _, tc := range []struct {
		argv []string
		want seenReq
	}{
		{[]string{"claude", "-p"}, seenReq{"POST", "/anthropic/v1/messages", "tok-a"}},
		{[]string{"codex", "exec", "-c", "model_providers.gw={base_url='" + gw.URL + "/openai/v1',wire_api='responses'}"},
			seenReq{"POST", "/openai/v1/responses", "Bearer tok-o"}},
		{[]string{"gemini", "-m", "gemini-x", "-p", "hi"}, seenReq{"POST", "/gemini/v1beta/models/gemini-x:generateContent", "tok-g"}},
	} {
		seen = nil
		r := replayIn(t, "", env, tc.argv...)
		assert.Equal(t, r.code, 0, r.stderr)
		assert.Check(t, is.DeepEqual(seen, []seenReq{tc.want}, cmp.AllowUnexported(seenReq{})))
		assert.Check(t, is.Contains(r.stderr, "replayagent: model POST "+gw.URL+tc.want.path+": 200 OK\n"))
	}
}

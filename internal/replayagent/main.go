// Command replayagent stands in for an agent CLI where no real one can run:
// in tests, in the end-to-end suite and in the demo. Installed as claude,
// codex or gemini, it accepts (and ignores) that CLI's flags, prints a
// recorded transcript of a real run with a realistic pace, optionally edits
// files the way the agent would have, and exits with a chosen code. It needs
// no network and no API key.
//
// Its argv goes to standard error as one line, `replayagent: argv [...]`
// (JSON), so a test can check the headless command line it was given.
//
// Configuration, all optional, is by environment:
//
//	REPLAY_AGENT       agent to be: claude, codex or gemini (default: the program's name)
//	REPLAY_TRANSCRIPT  transcript to print (default: $REPLAY_DIR/<agent>/default.jsonl)
//	REPLAY_DIR         where transcripts are (default: /recordings)
//	REPLAY_DELAY       pause between lines: "30ms", or a range "20ms-50ms" (the default); "0" for none
//	REPLAY_EDITS       file edits, as a JSON array inline or the path of a file holding one:
//	                   [{"path":"a.go","content":"…"}, {"path":"b.md","append":"…"}, {"path":"c.txt","delete":true},
//	                   {"path":"d.md","symlink":"/any/target"}] (a symlink replaces what is at path;
//	                   its target may be anything, as a hostile agent's would be)
//	                   paths are relative to the working directory; the edits are made
//	                   before the transcript's last line, as an agent edits before it reports
//	REPLAY_EXIT        exit code (default 0)
//	REPLAY_STDERR      text written to standard error after the transcript, as a failing
//	                   CLI prints its error last
//	REPLAY_FETCH       URLs to GET before replaying, separated by spaces, $VARIABLES
//	                   expanded (e.g. $ANTHROPIC_BASE_URL/v1/models), through the
//	                   proxy HTTP_PROXY/HTTPS_PROXY name (as an agent's tools do); each
//	                   outcome goes to standard error as `replayagent: fetch URL: 403 Forbidden`
//	                   (or the error), so that a test sees what the network allowed
//	REPLAY_MODEL_CALL  "1": before replaying, call the model API once as the agent CLI does,
//	                   with the credential and base URL it was given: claude POSTs
//	                   $ANTHROPIC_BASE_URL/v1/messages with x-api-key $ANTHROPIC_API_KEY,
//	                   codex POSTs <base_url of its -c model_providers argument>/responses
//	                   with Authorization: Bearer $CODEX_API_KEY, gemini POSTs
//	                   $GOOGLE_GEMINI_BASE_URL/v1beta/models/<-m model>:generateContent with
//	                   x-goog-api-key $GEMINI_API_KEY; the outcome goes to standard error as
//	                   `replayagent: model POST URL: 200 OK` (or the error)
//
// A configuration error exits with status 2 and a message on standard error.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args, os.Getenv, os.Stdout, os.Stderr, time.Sleep))
}

// agents are the names the program answers to.
var agents = []string{"claude", "codex", "gemini"}

// run replays and returns the exit code.
func run(argv []string, getenv func(string) string, stdout, stderr io.Writer, sleep func(time.Duration)) int {
	b, _ := json.Marshal(argv)
	fmt.Fprintf(stderr, "replayagent: argv %s\n", b)
	c, err := load(argv, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "replayagent: %v\n", err)
		return 2
	}
	for _, u := range c.fetch {
		fmt.Fprintf(stderr, "replayagent: fetch %s: %s\n", u, fetch(u, getenv))
	}
	if m := c.model; m != nil {
		fmt.Fprintf(stderr, "replayagent: model %s %s: %s\n", m.method, m.url, m.do(getenv))
	}
	if err := c.replay(stdout, sleep); err != nil {
		fmt.Fprintf(stderr, "replayagent: %v\n", err)
		return 2
	}
	if msg := getenv("REPLAY_STDERR"); msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	return c.exit
}

type config struct {
	lines    [][]byte
	min, max time.Duration
	edits    []edit
	exit     int
	fetch    []string
	model    *modelCall
}

func load(argv []string, getenv func(string) string) (*config, error) {
	agent := getenv("REPLAY_AGENT")
	if agent == "" && len(argv) > 0 {
		agent = filepath.Base(argv[0])
	}
	path := getenv("REPLAY_TRANSCRIPT")
	if path == "" {
		if !slices.Contains(agents, agent) {
			return nil, fmt.Errorf("unknown agent %q: install as one of %s, or set REPLAY_AGENT or REPLAY_TRANSCRIPT", agent, strings.Join(agents, ", "))
		}
		dir := getenv("REPLAY_DIR")
		if dir == "" {
			dir = "/recordings"
		}
		path = filepath.Join(dir, agent, "default.jsonl")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	c := &config{lines: bytes.SplitAfter(data, []byte("\n"))}
	if c.min, c.max, err = parseDelay(getenv("REPLAY_DELAY")); err != nil {
		return nil, err
	}
	if c.edits, err = parseEdits(getenv("REPLAY_EDITS")); err != nil {
		return nil, err
	}
	for _, u := range strings.Fields(getenv("REPLAY_FETCH")) {
		u = os.Expand(u, getenv)
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("REPLAY_FETCH %q: want http:// or https:// URLs separated by spaces", u)
		}
		c.fetch = append(c.fetch, u)
	}
	switch v := getenv("REPLAY_MODEL_CALL"); v {
	case "", "0":
	case "1":
		if c.model, err = newModelCall(agent, argv, getenv); err != nil {
			return nil, fmt.Errorf("REPLAY_MODEL_CALL: %w", err)
		}
	default:
		return nil, fmt.Errorf("REPLAY_MODEL_CALL %q: want 1 or 0", v)
	}
	if s := getenv("REPLAY_EXIT"); s != "" {
		if c.exit, err = strconv.Atoi(s); err != nil || c.exit < 0 || c.exit > 255 {
			return nil, fmt.Errorf("REPLAY_EXIT %q: want an exit code from 0 to 255", s)
		}
	}
	return c, nil
}

// parseDelay reads "D" or "MIN-MAX"; empty means 20ms-50ms.
func parseDelay(s string) (minD, maxD time.Duration, err error) {
	if s == "" {
		return 20 * time.Millisecond, 50 * time.Millisecond, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	if minD, err = time.ParseDuration(lo); err == nil {
		maxD, err = time.ParseDuration(hi)
	}
	if err != nil || minD < 0 || maxD < minD {
		return 0, 0, fmt.Errorf("REPLAY_DELAY %q: want a duration such as 30ms, or a range such as 20ms-50ms", s)
	}
	return minD, maxD, nil
}

// edit is one change to a file in the working directory.
type edit struct {
	Path    string  `json:"path"`
	Content *string `json:"content"`
	Append  string  `json:"append"`
	Delete  bool    `json:"delete"`
	Symlink string  `json:"symlink"`
}

func parseEdits(s string) ([]edit, error) {
	if s == "" {
		return nil, nil
	}
	data := []byte(s)
	if !strings.HasPrefix(strings.TrimSpace(s), "[") {
		var err error
		if data, err = os.ReadFile(s); err != nil {
			return nil, fmt.Errorf("REPLAY_EDITS: %w", err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var edits []edit
	if err := dec.Decode(&edits); err != nil {
		return nil, fmt.Errorf("REPLAY_EDITS: %w", err)
	}
	for i, e := range edits {
		if !filepath.IsLocal(e.Path) {
			return nil, fmt.Errorf("REPLAY_EDITS[%d]: path %q must be relative and stay inside the working directory", i, e.Path)
		}
		ops := 0
		for _, set := range []bool{e.Content != nil, e.Append != "", e.Delete, e.Symlink != ""} {
			if set {
				ops++
			}
		}
		if ops != 1 {
			return nil, fmt.Errorf("REPLAY_EDITS[%d] (%s): set exactly one of content, append, delete, symlink", i, e.Path)
		}
	}
	return edits, nil
}

func (e edit) apply() error {
	switch {
	case e.Delete:
		return os.Remove(e.Path)
	case e.Symlink != "":
		if err := os.RemoveAll(e.Path); err != nil {
			return err
		}
		return os.Symlink(e.Symlink, e.Path)
	case e.Content != nil:
		if err := os.MkdirAll(filepath.Dir(e.Path), 0o755); err != nil {
			return err
		}
		return os.WriteFile(e.Path, []byte(*e.Content), 0o644)
	}
	f, err := os.OpenFile(e.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(e.Append)
	return errors.Join(err, f.Close())
}

func (c *config) replay(w io.Writer, sleep func(time.Duration)) error {
	last := len(c.lines) - 1
	for last >= 0 && len(bytes.TrimSpace(c.lines[last])) == 0 {
		last--
	}
	if last < 0 {
		return c.applyEdits()
	}
	for i, line := range c.lines[:last+1] {
		if i > 0 && c.max > 0 {
			sleep(c.min + rand.N(c.max-c.min+1))
		}
		if i == last {
			if err := c.applyEdits(); err != nil {
				return err
			}
		}
		if _, err := w.Write(line); err != nil {
			return fmt.Errorf("write transcript: %w", err)
		}
	}
	return nil
}

func (c *config) applyEdits() error {
	for _, e := range c.edits {
		if err := e.apply(); err != nil {
			return fmt.Errorf("edit %s: %w", e.Path, err)
		}
	}
	return nil
}

// modelCall is one request to the model API, as the agent's CLI sends it.
type modelCall struct {
	method, url string
	header      map[string]string
	body        string
}

// codexBaseURL finds the base URL in Codex's -c model_providers.NAME={...}
// argument, as the sandbox passes the gateway to it.
var codexBaseURL = regexp.MustCompile(`base_url='([^']+)'`)

func newModelCall(agent string, argv []string, getenv func(string) string) (*modelCall, error) {
	need := func(name string) (string, error) {
		if v := getenv(name); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("%s is not set", name)
	}
	switch agent {
	case "claude":
		base, err := need("ANTHROPIC_BASE_URL")
		if err != nil {
			return nil, err
		}
		key, err := need("ANTHROPIC_API_KEY")
		if err != nil {
			return nil, err
		}
		return &modelCall{method: http.MethodPost, url: strings.TrimSuffix(base, "/") + "/v1/messages",
			header: map[string]string{"X-Api-Key": key, "Anthropic-Version": "2023-06-01"},
			body:   `{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"ping"}]}`}, nil
	case "codex":
		var base string
		for _, a := range argv {
			if m := codexBaseURL.FindStringSubmatch(a); m != nil {
				base = m[1]
			}
		}
		if base == "" {
			return nil, errors.New("no base_url in codex's -c model_providers argument")
		}
		key, err := need("CODEX_API_KEY")
		if err != nil {
			return nil, err
		}
		return &modelCall{method: http.MethodPost, url: strings.TrimSuffix(base, "/") + "/responses",
			header: map[string]string{"Authorization": "Bearer " + key},
			body:   `{"model":"gpt-5-codex","input":"ping"}`}, nil
	case "gemini":
		base, err := need("GOOGLE_GEMINI_BASE_URL")
		if err != nil {
			return nil, err
		}
		key, err := need("GEMINI_API_KEY")
		if err != nil {
			return nil, err
		}
		model := "gemini-2.5-pro"
		for i, a := range argv {
			if (a == "-m" || a == "--model") && i+1 < len(argv) {
				model = argv[i+1]
			}
		}
		return &modelCall{method: http.MethodPost, url: strings.TrimSuffix(base, "/") + "/v1beta/models/" + model + ":generateContent",
			header: map[string]string{"X-Goog-Api-Key": key},
			body:   `{"contents":[{"role":"user","parts":[{"text":"ping"}]}]}`}, nil
	}
	return nil, fmt.Errorf("unknown agent %q: want one of %s", agent, strings.Join(agents, ", "))
}

// do sends the call, through the proxy the environment names unless
// NO_PROXY lists its host (the gateway's loopback address does), and
// returns the status line, or the error.
func (m *modelCall) do(getenv func(string) string) string {
	req, err := http.NewRequest(m.method, m.url, strings.NewReader(m.body))
	if err != nil {
		return "error: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range m.header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: proxyFrom(getenv)}}
	resp, err := client.Do(req)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.Status
}

// fetch GETs u through the proxy the environment names and returns the
// status line, or the error.
func fetch(u string, getenv func(string) string) string {
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{Proxy: proxyFrom(getenv)},
	}
	resp, err := client.Get(u)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.Status
}

// proxyFrom picks HTTPS_PROXY or HTTP_PROXY (either case) by the request's
// scheme, as agent CLIs do; NO_PROXY hosts, listed exactly, go direct.
func proxyFrom(getenv func(string) string) func(*http.Request) (*url.URL, error) {
	env := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return getenv(strings.ToLower(name))
	}
	return func(r *http.Request) (*url.URL, error) {
		for _, h := range strings.Split(env("NO_PROXY"), ",") {
			if h = strings.TrimSpace(h); h != "" && (h == r.URL.Hostname() || h == r.URL.Host) {
				return nil, nil
			}
		}
		p := env("HTTP_PROXY")
		if r.URL.Scheme == "https" {
			p = env("HTTPS_PROXY")
		}
		if p == "" {
			return nil, nil
		}
		return url.Parse(p)
	}
}

package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"gotest.tools/v3/assert"
)

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	assert.NilError(t, err)
	return b
}

func TestEmptyStream(t *testing.T) {
	for _, agent := range []string{"claude", "codex", "gemini"} {
		res, events := parseExit(t, agent, nil, 0, nil)
		assert.Equal(t, len(events), 0)
		assert.Assert(t, !res.Success)
		assert.Equal(t, res.ErrorKind, ErrNoResult)
		assert.Equal(t, res.ErrorMessage, "agent ended without a result (exit code 0, no output)")
	}
}

func TestNoResultKeepsExitCodeAndStderrTail(t *testing.T) {
	rec := lines(recording(t, "codex", "reasoning-command-exec-0.46.0.jsonl"))
	stderr := bytes.Repeat([]byte("x"), 10_000)
	stderr = append(stderr, "\nError: unexpected status 401 Unauthorized\n"...)
	res, _ := parseExit(t, "codex", bytes.Join(rec[:len(rec)-1], nil), 1, stderr)
	assert.Assert(t, !res.Success)
	assert.Equal(t, res.ExitCode, 1)
	assert.Equal(t, len(res.StderrTail), TailBytes)
	assert.Assert(t, strings.HasSuffix(res.StderrTail, "401 Unauthorized\n"))
	assert.Equal(t, res.ErrorMessage, "agent ended without a result (exit code 1): Error: unexpected status 401 Unauthorized")
	// What was seen is still reported.
	assert.Equal(t, res.ToolCalls, 1)
	assert.Assert(t, strings.HasPrefix(res.Text, "`test.js`"))
}

func TestNoResultPrefersTheAgentsLastError(t *testing.T) {
	rec := lines(recording(t, "codex", "turn-failed-model-requires-upgrade-0.142.5.jsonl"))
	res, _ := parseExit(t, "codex", bytes.Join(rec[:len(rec)-1], nil), 1, []byte("panic: boom\n"))
	assert.Equal(t, res.ErrorKind, ErrNoResult)
	assert.Equal(t, res.ErrorMessage, "agent ended without a result (exit code 1): The 'gpt-5.6-sol' model requires a newer version of Codex. Please upgrade to the latest app or CLI and try again. (HTTP 400)")
}

func TestSuccessWithNonZeroExit(t *testing.T) {
	res, _ := parseExit(t, "claude", recording(t, "claude", "stream-success-text-only-2.1.195.jsonl"), 137, nil)
	assert.Assert(t, !res.Success)
	assert.Equal(t, res.ErrorKind, ErrExitCode)
	assert.Equal(t, res.ErrorMessage, "agent reported success but exited with code 137")
	assert.Equal(t, res.Text, "OK")
}

func TestTruncatedLastLine(t *testing.T) {
	for _, agent := range []string{"claude", "codex", "gemini"} {
		for _, f := range recordings(t, agent) {
			rec := mustRead(t, f)
			// Without its final newline the last line still counts.
			whole, _ := parse(t, agent, bytes.TrimRight(rec, "\n"))
			want, _ := parse(t, agent, rec)
			assert.DeepEqual(t, whole, want)

			// Cut in the middle it is text, as if the line were not there.
			ls := lines(rec)
			last := ls[len(ls)-1]
			cut := rec[:len(rec)-len(last)/2]
			before, _ := parse(t, agent, bytes.Join(ls[:len(ls)-1], nil))
			res, events := parse(t, agent, cut)
			assert.Equal(t, count(events, KindText), 1, f)
			assert.Equal(t, res.Lines, before.Lines+1)
			res.Lines = before.Lines
			if before.Lines == 0 {
				// The half line is output where there was none.
				assert.Equal(t, before.ErrorMessage, "agent ended without a result (exit code 0, no output)")
				before.ErrorMessage = "agent ended without a result (exit code 0)"
			}
			assert.DeepEqual(t, res, before)
			assert.Assert(t, !res.Success, f)
		}
	}
}

func TestCRLF(t *testing.T) {
	rec := recording(t, "gemini", "stream-json-tool-use-read-file-0.42.0.jsonl")
	want, _ := parse(t, "gemini", rec)
	got, events := parse(t, "gemini", bytes.ReplaceAll(rec, []byte("\n"), []byte("\r\n")))
	assert.DeepEqual(t, got, want)
	assert.Equal(t, count(events, KindText), 0)
}

func TestInvalidUTF8(t *testing.T) {
	in := strings.Join([]string{
		`{"type":"thread.started","thread_id":"t-` + "\xff" + `"}`,
		"plain \xc3\x28 text",
		`{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"caf` + "\xe9" + `"}}`,
		`{"type":"turn.completed","usage":{"input_tokens":1,"output_tokens":1}}`,
	}, "\n")
	res, events := parse(t, "codex", []byte(in))
	assert.Assert(t, res.Success)
	assert.Equal(t, res.Text, "caf\uFFFD")
	assert.Equal(t, res.SessionID, "t-\uFFFD")
	for _, e := range events {
		b, err := json.Marshal(e)
		assert.NilError(t, err)
		assert.Assert(t, utf8.Valid(b), "%s", b)
	}
	b, err := json.Marshal(res)
	assert.NilError(t, err)
	assert.Assert(t, utf8.Valid(b))
}

func TestLongLines(t *testing.T) {
	rec := recording(t, "claude", "stream-success-text-only-2.1.195.jsonl")
	const (
		head = `{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"`
		tail = `"}]}}` + "\n"
	)
	// mk makes a tool result line of exactly size bytes, newline included.
	mk := func(size int) []byte {
		return []byte(head + strings.Repeat("a", size-len(head)-len(tail)) + tail)
	}
	t.Run("at the limit", func(t *testing.T) {
		in := append(mk(MaxLineBytes), rec...)
		res, events := parse(t, "claude", in)
		assert.Assert(t, res.Success)
		assert.Equal(t, count(events, KindError), 0)
		assert.Equal(t, events[0].Kind, KindToolResult)
		assert.Equal(t, len(events[0].Text), MaxLineBytes-len(head)-len(tail))
	})
	t.Run("over the limit", func(t *testing.T) {
		in := append(mk(MaxLineBytes+1), rec...)
		res, events := parse(t, "claude", in)
		assert.Assert(t, res.Success, "lines after the long one are read")
		assert.Equal(t, events[0].Kind, KindError)
		assert.Equal(t, events[0].Code, "line_too_long")
		assert.Equal(t, events[0].Text, "line 1 is longer than 16 MiB; skipped")
		assert.Equal(t, res.Lines, 4)
	})
	t.Run("over the limit, no result", func(t *testing.T) {
		res, _ := parse(t, "claude", mk(MaxLineBytes+100))
		assert.Equal(t, res.ErrorMessage, "agent ended without a result (exit code 0, 1 over-long line(s) skipped)")
	})
}

func TestUnknownEventsAreKeptAndCounted(t *testing.T) {
	cases := map[string]string{
		"claude": `{"type":"control_request","request_id":"r1"}`,
		"codex":  `{"type":"item.completed","item":{"id":"item_9","type":"collab_tool_call"}}`,
		"gemini": `{"type":"checkpoint","timestamp":"2026-05-17T22:13:46.000Z"}`,
	}
	wantType := map[string]string{"claude": "control_request", "codex": "item.completed/collab_tool_call", "gemini": "checkpoint"}
	for agent, line := range cases {
		t.Run(agent, func(t *testing.T) {
			rec := lines(mustRead(t, recordings(t, agent)[0]))
			in := bytes.Join(append([][]byte{rec[0], []byte(line + "\n"), []byte(line + "\n")}, rec[1:]...), nil)
			want, _ := parse(t, agent, bytes.Join(rec, nil))
			res, events := parse(t, agent, in)
			assert.Equal(t, res.Unknown, 2)
			assert.DeepEqual(t, res.UnknownTypes, map[string]int{wantType[agent]: 2})
			assert.Equal(t, res.Success, want.Success)
			assert.Equal(t, events[1].Kind, KindUnknown)
			assert.Equal(t, events[1].AgentType, wantType[agent])
			assert.Equal(t, string(events[1].Raw), line)
		})
	}
}

func TestUnknownTypesAreBounded(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, `{"type":"new_%d"}`+"\n", i)
	}
	res, _ := parse(t, "gemini", []byte(b.String()))
	assert.Equal(t, res.Unknown, 1000)
	assert.Equal(t, len(res.UnknownTypes), maxUnknownTypes+1)
	assert.Equal(t, res.UnknownTypes["(other)"], 1000-maxUnknownTypes)
}

func TestFieldOfUnexpectedTypeKeepsTheEvent(t *testing.T) {
	// session_id as a number, is_error as a string: the rest still counts.
	in := `{"type":"system","subtype":"init","session_id":42,"model":"m1"}` + "\n" +
		`{"type":"result","subtype":"success","is_error":"no","result":"fine","total_cost_usd":0.5}`
	res, events := parse(t, "claude", []byte(in))
	assert.Equal(t, events[0].Kind, KindInit)
	assert.Equal(t, res.Model, "m1")
	assert.Equal(t, res.Text, "fine")
	assert.Equal(t, res.CostUSD, 0.5)
	assert.Assert(t, res.Success)
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	rec := lines(recording(t, "gemini", "stream-json-tool-use-read-file-0.42.0.jsonl"))
	a, _ := Get("gemini")
	p := a.NewParser(nil)
	boom := errors.New("connection reset")
	err := p.Parse(&failingReader{data: bytes.Join(rec[:4], nil), err: boom})
	assert.ErrorIs(t, err, boom)
	res := p.Finish(137, nil)
	assert.Equal(t, res.ErrorKind, ErrNoResult)
	assert.Equal(t, res.ErrorMessage, "agent ended without a result (exit code 137): read: connection reset")
	assert.Equal(t, res.ToolCalls, 2)
}

func TestFinishTwice(t *testing.T) {
	a, _ := Get("claude")
	p := a.NewParser(nil)
	assert.NilError(t, p.Parse(bytes.NewReader(recording(t, "claude", "multi-tool-read-edit-bash-denied-2.1.220.jsonl"))))
	first := p.Finish(0, nil)
	second := p.Finish(0, nil)
	assert.DeepEqual(t, first, second)
}

func TestResultJSON(t *testing.T) {
	ok, _ := parse(t, "claude", recording(t, "claude", "stream-structured-output-json-schema-2.1.292.jsonl"))
	failed, _ := parse(t, "gemini", recording(t, "gemini", "stream-json-error-invalid-model-0.42.0.jsonl"))
	for _, tc := range []struct {
		res       Result
		wantError any
	}{
		{ok, nil},
		{failed, "[API Error: Requested entity was not found.]"},
	} {
		b, err := json.Marshal(tc.res)
		assert.NilError(t, err)
		assert.Assert(t, bytes.HasPrefix(b, []byte(`{"type":"result","success":`)), "%s", b)
		var m map[string]any
		assert.NilError(t, json.Unmarshal(b, &m))
		assert.Equal(t, m["error"], tc.wantError)
		assert.Equal(t, m["success"], tc.res.Success)
		assert.Equal(t, m["session_id"], tc.res.SessionID)
		assert.Equal(t, m["duration_ms"], float64(tc.res.Duration.Milliseconds()))
	}
}

func TestTail(t *testing.T) {
	tl := NewTail(8)
	for _, s := range []string{"abc", "defgh", "ijklmnopqrstuv", "w", "xyz"} {
		n, err := io.WriteString(tl, s)
		assert.NilError(t, err)
		assert.Equal(t, n, len(s))
	}
	assert.Equal(t, string(tl.Bytes()), "rstuvwxyz"[1:])
	for range 100 {
		tl.Write([]byte("0123"))
	}
	assert.Equal(t, string(tl.Bytes()), "01230123")
	assert.Assert(t, cap(tl.buf) <= 64, "the buffer stays bounded")
}

// Decoders reuse their line buffers; an event kept by the caller must not
// change when later lines are read.
func TestEventsStayIntactAfterLaterLines(t *testing.T) {
	for _, agent := range []string{"claude", "codex", "gemini"} {
		a, _ := Get(agent)
		var kept []Event
		var atEmit []string
		p := a.NewParser(func(e Event) {
			b, err := json.Marshal(e)
			assert.NilError(t, err)
			kept, atEmit = append(kept, e), append(atEmit, string(b))
		})
		// All recordings in one stream, so that lines of different shapes
		// follow each other.
		assert.NilError(t, p.Parse(bytes.NewReader(transcript(t, agent, 1))))
		for i, e := range kept {
			b, _ := json.Marshal(e)
			assert.Equal(t, string(b), atEmit[i], agent)
		}
	}
}

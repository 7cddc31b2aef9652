package agent

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// The known traps, each on an input derived from a real recording.

func TestClaudeCostIsARunningTotal(t *testing.T) {
	rec := recording(t, "claude", "stream-success-text-only-2.1.195.jsonl")
	once, _ := parse(t, "claude", rec)
	twice, _ := parse(t, "claude", append(append([]byte{}, rec...), rec...))
	assert.Equal(t, twice.CostUSD, once.CostUSD, "two result lines: the last total, not the sum")
	assert.Assert(t, twice.Success)
	assert.Equal(t, twice.Messages, 1, "the repeated message id counts once")
}

func TestClaudeLastResultDecides(t *testing.T) {
	ok := recording(t, "claude", "stream-success-text-only-2.1.195.jsonl")
	failed := recording(t, "claude", "auth-failure-not-logged-in-2.1.141.jsonl")
	res, _ := parse(t, "claude", append(append([]byte{}, ok...), failed...))
	assert.Assert(t, !res.Success)
	assert.Equal(t, res.ErrorKind, "authentication_failed")

	res, _ = parse(t, "claude", append(append([]byte{}, failed...), ok...))
	assert.Assert(t, res.Success)
	assert.Equal(t, res.ErrorMessage, "")
	assert.Equal(t, res.Text, "OK")
}

// Without the result line (the CLI killed, or max turns in a version that
// prints none) the run fails, and the last answer is still reported.
func TestClaudeStreamWithoutResult(t *testing.T) {
	rec := lines(recording(t, "claude", "multi-tool-read-edit-bash-denied-2.1.220.jsonl"))
	res, _ := parseExit(t, "claude", bytes.Join(rec[:len(rec)-1], nil), 1, []byte("Error: Reached max turns (5)\n"))
	assert.Assert(t, !res.Success)
	assert.Equal(t, res.ErrorKind, ErrNoResult)
	assert.Equal(t, res.ErrorMessage, "agent ended without a result (exit code 1): Error: Reached max turns (5)")
	assert.Assert(t, strings.HasPrefix(res.Text, "I've added `multiply(a, b)`"))
	assert.Equal(t, res.ToolCalls, 4)
	assert.Equal(t, res.Turns, 5)
	assert.Equal(t, res.ExitCode, 1)
}

func TestClaudeVerboseJSONArray(t *testing.T) {
	rec := recording(t, "claude", "multi-tool-read-edit-bash-denied-2.1.220.jsonl")
	var arr []json.RawMessage
	for _, l := range lines(rec) {
		arr = append(arr, json.RawMessage(bytes.TrimSpace(l)))
	}
	one, err := json.Marshal(arr)
	assert.NilError(t, err)

	want, wantEvents := parse(t, "claude", rec)
	got, gotEvents := parse(t, "claude", one)
	assert.Equal(t, got.Lines, 1)
	got.Lines = want.Lines
	// Marshalling the array compacted the denied tool inputs.
	for i := range got.PermissionDenials {
		assert.Assert(t, jsonEqual(t, got.PermissionDenials[i].Input, string(want.PermissionDenials[i].Input)))
		got.PermissionDenials[i].Input = want.PermissionDenials[i].Input
	}
	assert.DeepEqual(t, got, want)
	assert.Equal(t, len(gotEvents), len(wantEvents))
}

func TestCodexErrorsAreNotFatal(t *testing.T) {
	warn := lines(recording(t, "codex", "turn-failed-model-requires-upgrade-0.142.5.jsonl"))
	ok := lines(recording(t, "codex", "todo-list-plan-commands-file-change-0.150.1.jsonl"))
	// The error item and the top-level error, before the successful turn ends.
	in := bytes.Join(append(append(append([][]byte{}, ok[:len(ok)-1]...), warn[1], warn[3]), ok[len(ok)-1]), nil)
	res, events := parse(t, "codex", in)
	assert.Assert(t, res.Success, "%s: %s", res.ErrorKind, res.ErrorMessage)
	assert.Equal(t, res.ErrorMessage, "")
	assert.Equal(t, count(events, KindError), 2)
	assert.Assert(t, strings.HasPrefix(res.Text, "Done."))
}

func TestCodexTurnFailedWithPlainMessage(t *testing.T) {
	rec := lines(recording(t, "codex", "turn-failed-model-requires-upgrade-0.142.5.jsonl"))
	last := map[string]any{}
	assert.NilError(t, json.Unmarshal(rec[len(rec)-1], &last))
	last["error"] = map[string]any{"message": "stream disconnected before completion"}
	b, _ := json.Marshal(last)
	res, _ := parse(t, "codex", append(bytes.Join(rec[:len(rec)-1], nil), b...))
	assert.Assert(t, !res.Success)
	assert.Equal(t, res.ErrorKind, ErrTurnFailed)
	assert.Equal(t, res.ErrorMessage, "stream disconnected before completion")
}

// edit rewrites the lines of a recording whose "type" is typ.
func edit(t *testing.T, rec []byte, typ string, change func(map[string]any)) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, l := range lines(rec) {
		var m map[string]any
		assert.NilError(t, json.Unmarshal(l, &m))
		if m["type"] == typ {
			change(m)
			b, err := json.Marshal(m)
			assert.NilError(t, err)
			l = append(b, '\n')
		}
		out.Write(l)
	}
	return out.Bytes()
}

func TestGeminiErrorResultWithoutErrorObject(t *testing.T) {
	rec := edit(t, recording(t, "gemini", "stream-json-error-invalid-model-0.42.0.jsonl"), "result",
		func(m map[string]any) { delete(m, "error") })
	res, _ := parse(t, "gemini", rec)
	assert.Assert(t, !res.Success)
	assert.Equal(t, res.ErrorKind, ErrAgent)
	assert.Equal(t, res.ErrorMessage, `gemini reported status "error" without details`)

	// An earlier error event is the better reason.
	lns := lines(rec)
	withEvent := bytes.Join([][]byte{lns[0], lns[1], []byte(`{"type":"error","timestamp":"2026-05-17T22:16:56.000Z","severity":"error","message":"quota exceeded"}` + "\n"), lns[2]}, nil)
	res, _ = parse(t, "gemini", withEvent)
	assert.Equal(t, res.ErrorMessage, "quota exceeded")
}

func TestGeminiToolResultWithoutOutput(t *testing.T) {
	rec := edit(t, recording(t, "gemini", "stream-json-tool-use-read-file-0.42.0.jsonl"), "tool_result",
		func(m map[string]any) { delete(m, "output") })
	res, events := parse(t, "gemini", rec)
	assert.Assert(t, res.Success)
	assert.Equal(t, count(events, KindToolResult), 2)
	for _, e := range events {
		if e.Kind == KindToolResult {
			assert.Equal(t, e.Text, "")
		}
	}
}

func TestGeminiNoticeWithoutToolUse(t *testing.T) {
	// The deprecation warning right before the answer, with no tool call in
	// between, is still not part of the answer.
	rec := recording(t, "gemini", "stream-json-list-directory-deprecation-notice.jsonl")
	var keep [][]byte
	for _, l := range lines(rec) {
		if !bytes.Contains(l, []byte(`"type":"tool_`)) {
			keep = append(keep, l)
		}
	}
	res, _ := parse(t, "gemini", bytes.Join(keep, nil))
	assert.Assert(t, strings.HasPrefix(res.Text, "はい、"), res.Text)
}

func TestNonJSONLinesAreText(t *testing.T) {
	for _, agent := range []string{"claude", "codex", "gemini"} {
		t.Run(agent, func(t *testing.T) {
			for _, f := range recordings(t, agent) {
				rec := lines(mustRead(t, f))
				want, _ := parse(t, agent, bytes.Join(rec, nil))
				noisy := [][]byte{[]byte("Loaded cached credentials.\n")}
				noisy = append(noisy, rec[0], []byte("[WARN] Skipping extension: \xff\xfe not UTF-8\n"), []byte("{half a json object\n"))
				noisy = append(noisy, rec[1:]...)
				got, events := parse(t, agent, bytes.Join(noisy, nil))
				assert.Equal(t, count(events, KindText), 3, f)
				assert.Equal(t, got.Success, want.Success, f)
				assert.Equal(t, got.Text, want.Text, f)
				assert.Equal(t, got.ToolCalls, want.ToolCalls, f)
				assert.Equal(t, events[0].Text, "Loaded cached credentials.")
			}
		})
	}
}

func TestGeminiWarningInsideTheAnswer(t *testing.T) {
	rec := lines(recording(t, "gemini", "stream-json-tool-use-read-file-0.42.0.jsonl"))
	want, _ := parse(t, "gemini", bytes.Join(rec, nil))
	// A retry warning between the answer's two deltas (lines 7 and 8).
	warn := []byte(`{"type":"error","timestamp":"2026-05-17T22:13:48.070Z","severity":"warning","message":"Retrying after 429"}` + "\n")
	in := bytes.Join([][]byte{bytes.Join(rec[:7], nil), warn, bytes.Join(rec[7:], nil)}, nil)
	res, events := parse(t, "gemini", in)
	assert.Assert(t, res.Success)
	assert.Equal(t, res.Text, want.Text)
	assert.Equal(t, res.Messages, 1)
	var said []string
	for _, e := range events {
		if e.Kind == KindMessage {
			said = append(said, e.Text)
		}
	}
	assert.DeepEqual(t, said, []string{"SWITCHBOARD_GEMINI_PROBE_TOOL_5F8A2", "1"})
}

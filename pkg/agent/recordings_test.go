package agent

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// want is what one recording must parse to. Every value was read from the
// recording itself.
type want struct {
	success    bool
	textPrefix string
	structured string // JSON, compared semantically; "" means none
	cost       float64
	session    string
	model      string
	turns      int
	messages   int
	toolCalls  int
	usage      Usage
	duration   time.Duration
	denials    int
	errKind    string
	errMessage string
	// events counts events by kind, for the kinds that matter in the file.
	events map[Kind]int
}

var recordingTests = map[string]want{
	"claude/stream-success-text-only-2.1.195.jsonl": {
		success: true, textPrefix: "OK", cost: 0.043551200000000005,
		session: "81898c55-fde9-4d44-b1f5-fbd77cd4fef6", model: "claude-sonnet-4-6",
		turns: 1, messages: 1,
		usage:    Usage{Input: 2, Output: 4, CacheRead: 15934, CacheWrite: 6354},
		duration: 1425 * time.Millisecond,
		events:   map[Kind]int{KindInit: 1, KindMessage: 1, KindUsage: 1},
	},
	"claude/multi-tool-read-edit-bash-denied-2.1.220.jsonl": {
		success: true, textPrefix: "I've added `multiply(a, b)` to calc.py.", cost: 0.207108,
		session: "c19fbf7b-5c8b-464c-9a4b-7cf548fd8e47", model: "claude-sonnet-5",
		// Six assistant lines, two of them one split message.
		turns: 5, messages: 5, toolCalls: 4, denials: 2,
		// The result line carries no usage: the sum over the five messages,
		// each counted once although the split one repeats its usage.
		usage:    Usage{Input: 2 * 5, Output: 2 + 66 + 68 + 46 + 1, CacheRead: 15912 + 34731 + 34920 + 39996 + 40111, CacheWrite: 18819 + 189 + 5076 + 115 + 115},
		duration: 14721 * time.Millisecond,
		events:   map[Kind]int{KindInit: 1, KindToolCall: 4, KindToolResult: 4, KindMessage: 1, KindNotice: 4},
	},
	"claude/stream-structured-output-json-schema-2.1.292.jsonl": {
		success: true, textPrefix: `{"status":"no_change_needed"`,
		structured: `{"status":"no_change_needed","summary":"No code changes required for this task.","files_changed":[],"tests_added":[],"out_of_scope":[],"behaviour_changed":false,"seam_confirmed":false,"tdd_used":false,"gates_run":[],"blocked_reason":null,"docs_updated":[]}`,
		cost:       0.031638, session: "3f7667d9-6ce8-4ae7-b063-bbf69881544e", model: "claude-haiku-4-5-20251001",
		turns: 2, messages: 1, toolCalls: 1,
		usage:    Usage{Input: 9, Output: 339, CacheWrite: 14967},
		duration: 2911 * time.Millisecond,
		events:   map[Kind]int{KindToolCall: 1, KindToolResult: 1, KindMessage: 0},
	},
	"claude/auth-failure-not-logged-in-2.1.141.jsonl": {
		// subtype "success", but is_error is true.
		success: false, textPrefix: "Not logged in", cost: 0,
		session: "00000000-0000-7000-8000-000000000006", model: "claude-opus-4-7[1m]",
		turns: 1, messages: 1, duration: 33 * time.Millisecond,
		errKind: "authentication_failed", errMessage: "Not logged in · Please run /login",
		events: map[Kind]int{KindError: 2, KindMessage: 1},
	},
	"claude/json-output-structured-output-2.1.236.jsonl": {
		success: true, textPrefix: `{"topic":"dijkstra"`, structured: `{"topic":"dijkstra","confidence":"high"}`,
		cost: 0.002927, session: "8ae5d88e-3fd9-43a1-b71e-2118fe0788be",
		turns: 2, usage: Usage{Input: 1142, Output: 357}, duration: 4510 * time.Millisecond,
		events: map[Kind]int{KindUsage: 1, KindText: 0},
	},
	"claude/result-error-max-turns-envelope.jsonl": {
		// No "result" key: the reason comes from "errors".
		success: false, cost: 1.4020935000000005, session: "495cc7e5-d22e-4192-92ba-4ce2d14827a6",
		turns: 41, usage: Usage{Input: 2409, Output: 15946, CacheRead: 1617801, CacheWrite: 29104},
		duration: 283992 * time.Millisecond,
		errKind:  ErrMaxTurns, errMessage: "Reached maximum number of turns (40)",
		events: map[Kind]int{KindError: 1},
	},
	"codex/reasoning-command-exec-0.46.0.jsonl": {
		success: true, textPrefix: "`test.js` simply contains", session: "019a2d7b-231d-7290-acc1-6bc6571440da",
		turns: 1, messages: 1, toolCalls: 1,
		usage:  Usage{Input: 6087 - 5120, Output: 204, CacheRead: 5120},
		events: map[Kind]int{KindReasoning: 2, KindToolCall: 1, KindToolResult: 1},
	},
	"codex/command-failed-and-file-change-0.143.0.jsonl": {
		// A failed command (exit 128) does not fail the run.
		success: true, textPrefix: "done", session: "00000000-0000-7000-8000-000000000030",
		turns: 1, messages: 1, toolCalls: 2,
		usage:  Usage{Input: 61559 - 47616, Output: 396, CacheRead: 47616},
		events: map[Kind]int{KindToolCall: 2, KindToolResult: 2, KindError: 0},
	},
	"codex/turn-failed-model-requires-upgrade-0.142.5.jsonl": {
		success: false, session: "019fe040-c131-7d31-a9bd-83df751b4d4a", turns: 1,
		errKind:    "invalid_request_error",
		errMessage: "The 'gpt-5.6-sol' model requires a newer version of Codex. Please upgrade to the latest app or CLI and try again. (HTTP 400)",
		// The error item and the top-level error come before turn.failed.
		events: map[Kind]int{KindError: 3},
	},
	"codex/todo-list-plan-commands-file-change-0.150.1.jsonl": {
		success: true, textPrefix: "Done.\n\n- `ls -la`: found `.git/`", session: "01a0586e-5a43-7001-9628-cde66a53e993",
		turns: 1, messages: 3, toolCalls: 4,
		usage:  Usage{Input: 133712 - 113920, Output: 937, CacheRead: 113920, Reasoning: 314},
		events: map[Kind]int{KindToolCall: 4, KindToolResult: 4, KindNotice: 6},
	},
	"gemini/stream-json-list-directory-deprecation-notice.jsonl": {
		// The deprecation warning arrives as an assistant delta; it is not
		// part of the answer.
		success: true, textPrefix: "はい、現在のディレクトリには", session: "26c6651e-444c-42da-94a6-26b6bab096f0", model: "auto-gemini-2.5",
		turns: 1, messages: 1, toolCalls: 1,
		usage: Usage{Input: 3223, Output: 186, CacheRead: 9598}, duration: 5760 * time.Millisecond,
		events: map[Kind]int{KindMessage: 1, KindToolCall: 1, KindToolResult: 1, KindNotice: 2},
	},
	"gemini/stream-json-tool-use-read-file-0.42.0.jsonl": {
		success: true, textPrefix: "SWITCHBOARD_GEMINI_PROBE_TOOL_5F8A21", session: "00000000-0000-4000-8000-000000000002", model: "gemini-3-flash-preview",
		turns: 1, messages: 1, toolCalls: 2,
		usage: Usage{Input: 12966, Output: 100, CacheRead: 7559}, duration: 2855 * time.Millisecond,
		events: map[Kind]int{KindToolCall: 2, KindToolResult: 2, KindMessage: 1},
	},
	"gemini/stream-json-error-invalid-model-0.42.0.jsonl": {
		success: false, session: "00000000-0000-4000-8000-000000000003", model: "does-not-exist-model",
		errKind: "unknown", errMessage: "[API Error: Requested entity was not found.]",
		events: map[Kind]int{KindError: 1},
	},
}

func TestRecordings(t *testing.T) {
	files, err := filepath.Glob("testdata/*/*.jsonl")
	assert.NilError(t, err)
	assert.Equal(t, len(files), len(recordingTests), "every recording has an entry, and every entry a recording")
	for _, f := range files {
		rel := filepath.ToSlash(strings.TrimPrefix(f, "testdata"+string(filepath.Separator)))
		t.Run(rel, func(t *testing.T) {
			w, ok := recordingTests[rel]
			assert.Assert(t, ok, "no expectations for %s", rel)
			agent, name := filepath.Split(rel)
			res, events := parse(t, strings.TrimSuffix(agent, "/"), recording(t, strings.TrimSuffix(agent, "/"), name))

			assert.Equal(t, res.Success, w.success)
			assert.Assert(t, strings.HasPrefix(res.Text, w.textPrefix), "text %q", res.Text)
			assert.Equal(t, res.CostUSD, w.cost)
			assert.Equal(t, res.SessionID, w.session)
			assert.Equal(t, res.Model, w.model)
			assert.Equal(t, res.Turns, w.turns)
			assert.Equal(t, res.Messages, w.messages)
			assert.Equal(t, res.ToolCalls, w.toolCalls)
			assert.DeepEqual(t, res.Usage, w.usage)
			assert.Equal(t, res.Duration, w.duration)
			assert.Equal(t, len(res.PermissionDenials), w.denials)
			assert.Equal(t, res.ErrorKind, w.errKind)
			assert.Equal(t, res.ErrorMessage, w.errMessage)
			assert.Equal(t, res.Unknown, 0)
			assert.Equal(t, count(events, KindText), 0, "every line of a recording is JSON")
			if w.structured == "" {
				assert.Assert(t, is.Nil(res.StructuredOutput))
			} else {
				assert.Assert(t, jsonEqual(t, res.StructuredOutput, w.structured), "structured output %s", res.StructuredOutput)
			}
			for k, n := range w.events {
				assert.Equal(t, count(events, k), n, "%s events", k)
			}
			for _, e := range events {
				_, err := json.Marshal(e)
				assert.NilError(t, err)
			}
		})
	}
}

func jsonEqual(t *testing.T, got json.RawMessage, want string) bool {
	t.Helper()
	var a, b any
	assert.NilError(t, json.Unmarshal(got, &a))
	assert.NilError(t, json.Unmarshal([]byte(want), &b))
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestClaudePermissionDenials(t *testing.T) {
	res, _ := parse(t, "claude", recording(t, "claude", "multi-tool-read-edit-bash-denied-2.1.220.jsonl"))
	assert.Equal(t, len(res.PermissionDenials), 2)
	for i, id := range []string{"toolu_01U9pn2Vu92hwnSi8uhViCNa", "toolu_017sqQcHzMJH6dYphgeCS4TP"} {
		d := res.PermissionDenials[i]
		assert.Equal(t, d.Tool, "Bash")
		assert.Equal(t, d.ToolID, id)
		assert.Assert(t, strings.Contains(string(d.Input), "calc.multiply(3,4)"))
	}
}

func TestClaudeToolResultsAreLinkedAndFlagged(t *testing.T) {
	_, events := parse(t, "claude", recording(t, "claude", "multi-tool-read-edit-bash-denied-2.1.220.jsonl"))
	calls := map[string]string{}
	var denied int
	for _, e := range events {
		switch e.Kind {
		case KindToolCall:
			calls[e.ToolID] = e.Tool
		case KindToolResult:
			assert.Assert(t, calls[e.ToolID] != "", "result %s without a call", e.ToolID)
			if e.IsError {
				denied++
				assert.Equal(t, calls[e.ToolID], "Bash")
				assert.Equal(t, e.Text, "This command requires approval")
			}
		}
	}
	assert.Equal(t, denied, 2)
}

func TestCodexCommandExitCodes(t *testing.T) {
	_, events := parse(t, "codex", recording(t, "codex", "command-failed-and-file-change-0.143.0.jsonl"))
	var results []Event
	for _, e := range events {
		if e.Kind == KindToolResult {
			results = append(results, e)
		}
	}
	assert.Equal(t, len(results), 2)
	assert.Equal(t, results[0].Code, "128")
	assert.Assert(t, results[0].IsError)
	assert.Assert(t, strings.HasPrefix(results[0].Text, "fatal: not a git repository"))
	assert.Equal(t, results[1].Code, "completed")
	assert.Assert(t, !results[1].IsError)
}

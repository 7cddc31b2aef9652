package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/golden"
)

// The agent recordings live with their parser.
const recordingsDir = "../../pkg/agent/testdata"

func runEvents(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = realMain(context.Background(), append([]string{"events"}, args...),
		&streams{in: strings.NewReader(stdin), out: &out, err: &errOut})
	return code, out.String(), errOut.String()
}

func TestEventsOnEveryRecording(t *testing.T) {
	// Exit status per recording: 1 where the agent failed.
	failed := map[string]bool{
		"claude/auth-failure-not-logged-in-2.1.141.jsonl":        true,
		"claude/result-error-max-turns-envelope.jsonl":           true,
		"codex/turn-failed-model-requires-upgrade-0.142.5.jsonl": true,
		"gemini/stream-json-error-invalid-model-0.42.0.jsonl":    true,
	}
	files, err := filepath.Glob(filepath.Join(recordingsDir, "*", "*.jsonl"))
	assert.NilError(t, err)
	assert.Assert(t, len(files) >= 12)
	for _, f := range files {
		rel := filepath.ToSlash(strings.TrimPrefix(f, recordingsDir+string(filepath.Separator)))
		agentName := filepath.Base(filepath.Dir(f))
		t.Run(rel, func(t *testing.T) {
			code, out, errOut := runEvents(t, "", "--agent", agentName, f)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			var last map[string]any
			for i, l := range lines {
				var m map[string]any
				assert.NilError(t, json.Unmarshal([]byte(l), &m), "line %d: %s", i+1, l)
				last = m
			}
			assert.Equal(t, last["type"], "result")
			assert.Equal(t, last["agent"], agentName)
			if failed[rel] {
				assert.Equal(t, code, 1)
				assert.Equal(t, last["success"], false)
				assert.Assert(t, last["error"] != nil)
				assert.Equal(t, errOut, "sandbox: agent failed: "+last["error"].(string)+"\n")
			} else {
				assert.Equal(t, code, 0, errOut)
				assert.Equal(t, last["success"], true)
				assert.Equal(t, last["error"], nil)
				assert.Equal(t, errOut, "")
			}
		})
	}
}

func TestEventsGolden(t *testing.T) {
	for _, tc := range []struct{ agent, file, golden string }{
		{"claude", "multi-tool-read-edit-bash-denied-2.1.220.jsonl", "events-claude-multi-tool.golden"},
		{"claude", "stream-structured-output-json-schema-2.1.292.jsonl", "events-claude-structured-output.golden"},
		{"codex", "turn-failed-model-requires-upgrade-0.142.5.jsonl", "events-codex-turn-failed.golden"},
		{"gemini", "stream-json-list-directory-deprecation-notice.jsonl", "events-gemini-deprecation-notice.golden"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			_, out, _ := runEvents(t, "", "--agent", tc.agent, filepath.Join(recordingsDir, tc.agent, tc.file))
			golden.Assert(t, out, tc.golden)
		})
	}
}

func TestEventsFromStdin(t *testing.T) {
	rec, err := os.ReadFile(filepath.Join(recordingsDir, "codex", "reasoning-command-exec-0.46.0.jsonl"))
	assert.NilError(t, err)
	for _, args := range [][]string{{"--agent", "codex", "-"}, {"--agent", "codex"}} {
		code, out, _ := runEvents(t, string(rec), args...)
		assert.Equal(t, code, 0)
		_, fromFile, _ := runEvents(t, "", "--agent", "codex", filepath.Join(recordingsDir, "codex", "reasoning-command-exec-0.46.0.jsonl"))
		assert.Equal(t, out, fromFile)
	}
}

func TestEventsNotATranscript(t *testing.T) {
	code, out, errOut := runEvents(t, "Welcome to the agent!\n", "--agent", "gemini")
	assert.Equal(t, code, 1)
	assert.Equal(t, out, `{"type":"text","line":1,"text":"Welcome to the agent!"}`+"\n"+
		`{"type":"result","success":false,"text":"","structured_output":null,"cost_usd":0,"session_id":"","error":"agent ended without a result (exit code 0)","agent":"gemini","error_kind":"no_result","exit_code":0,"usage":{"input_tokens":0,"output_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0},"turns":0,"messages":0,"tool_calls":0,"unknown_events":0,"lines":1,"duration_ms":0}`+"\n")
	assert.Equal(t, errOut, "sandbox: agent failed: agent ended without a result (exit code 0)\n")
}

func TestEventsBadInput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no agent", []string{filepath.Join(recordingsDir, "codex", "reasoning-command-exec-0.46.0.jsonl")},
			"sandbox: --agent is required (one of claude, codex, command, gemini)\n"},
		{"unknown agent", []string{"--agent", "cursor", "x.jsonl"},
			"sandbox: unknown agent \"cursor\" (valid: claude, codex, command, gemini)\n"},
		{"missing file", []string{"--agent", "claude", filepath.Join(dir, "nope.jsonl")},
			"sandbox: open " + filepath.Join(dir, "nope.jsonl") + ": no such file or directory\n"},
		{"directory", []string{"--agent", "claude", dir},
			"sandbox: read agent output: read " + dir + ": is a directory\n"},
		{"two files", []string{"--agent", "claude", "a.jsonl", "b.jsonl"},
			"sandbox: accepts at most 1 arg(s), received 2\n"},
		{"unknown flag", []string{"--agent", "claude", "--follow"},
			"sandbox: unknown flag: --follow\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runEvents(t, "", tc.args...)
			assert.Equal(t, code, 2)
			assert.Equal(t, errOut, tc.want)
			assert.Equal(t, out, "")
		})
	}
}

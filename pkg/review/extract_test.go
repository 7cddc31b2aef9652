package review

import (
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/org/sandbox-action/pkg/agent"
)

func TestExtractJSON(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"whole text", ` {"a":1} `, `{"a":1}`},
		{"fenced json", "Review:\n```json\n{\"a\": 1}\n```\nDone.", `{"a": 1}`},
		{"last fenced wins", "```json\n{\"a\":1}\n```\nthen\n```json\n{\"a\":2}\n```", `{"a":2}`},
		{"bare fence", "```\n{\"a\":3}\n```", `{"a":3}`},
		{"longer fence holding backticks", "````json\n{\"a\":\"```\"}\n````", "{\"a\":\"```\"}"},
		{"tilde fence", "~~~json\n{\"a\":4}\n~~~", `{"a":4}`},
		{"other language fence is not the answer", "```go\nfunc f() {}\n```\n", ""},
		{"fenced beats a later bare object", "```json\n{\"a\":5}\n```\nas in {\"b\":1}", `{"a":5}`},
		{"bare object in prose", `I found {"summary":"x","n":{"k":[1,2]}} at the end.`, `{"summary":"x","n":{"k":[1,2]}}`},
		{"last bare object", `{"a":1} and then {"b":2}`, `{"b":2}`},
		{"braces in strings", `say {"a":"}{"} ok`, `{"a":"}{"}`},
		{"invalid json", `{"a": 1,`, ""},
		{"arrays are not objects", "```json\n[1,2]\n```", ""},
		{"unclosed fence", "```json\n{\"a\":6}\n", `{"a":6}`},
		{"nothing", "no json here", ""},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ExtractJSON(tc.text)
			assert.Equal(t, ok, tc.want != "")
			assert.Equal(t, string(got), tc.want)
		})
	}
}

func TestOutput(t *testing.T) {
	obj := json.RawMessage(`{"summary":"s"}`)
	tests := []struct {
		name   string
		res    agent.Result
		want   string
		source Source
	}{
		{"claude structured output", agent.Result{Agent: "claude", StructuredOutput: obj, Text: `{"x":1}`}, `{"summary":"s"}`, SourceStructured},
		{"claude text is not taken", agent.Result{Agent: "claude", Text: "```json\n{\"x\":1}\n```"}, "", ""},
		{"codex final message", agent.Result{Agent: "codex", StructuredOutput: obj}, `{"summary":"s"}`, SourceStructured},
		{"codex fenced final message", agent.Result{Agent: "codex", Text: "```json\n{\"x\":1}\n```"}, `{"x":1}`, SourceFinalText},
		{"codex broken json is kept to be reported", agent.Result{Agent: "codex", Text: `{"x":`}, `{"x":`, SourceFinalText},
		{"gemini fenced", agent.Result{Agent: "gemini", Text: "ok\n```json\n{\"x\":2}\n```"}, `{"x":2}`, SourceFinalText},
		{"gemini broken fenced json is kept", agent.Result{Agent: "gemini", Text: "```json\n{\"x\":\n```"}, `{"x":`, SourceFinalText},
		{"gemini prose only", agent.Result{Agent: "gemini", Text: "All good."}, "", ""},
		{"null structured output", agent.Result{Agent: "claude", StructuredOutput: json.RawMessage("null")}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, src, ok := Output(tc.res)
			assert.Equal(t, ok, tc.want != "")
			assert.Equal(t, string(got), tc.want)
			assert.Equal(t, src, tc.source)
		})
	}
}

func TestDetectAgent(t *testing.T) {
	for file, want := range map[string]string{
		"claude-anchorable.jsonl": "claude", "claude-real-text-only.jsonl": "claude",
		"codex-empty.jsonl": "codex", "gemini-fenced.jsonl": "gemini",
	} {
		b := readFile(t, "transcripts/"+file)
		got, err := DetectAgent(b)
		assert.NilError(t, err)
		assert.Equal(t, got, want, file)
	}
	_, err := DetectAgent([]byte("plain text\n"))
	assert.ErrorContains(t, err, "cannot tell which agent printed the transcript")
	_, err = ReadTranscript("nope", nil)
	assert.ErrorContains(t, err, `unknown agent "nope"`)
}

func FuzzExtractJSON(f *testing.F) {
	for _, s := range []string{
		"```json\n{\"a\":1}\n```", `{"a":{"b":[1,"}"]}}`, "x { y } {\"z\":1}", "````\n{}\n````",
		"{{{{{{{{", `"\"{"`, "```json\n{\"summary\":\"s\",\"verdict\":\"comment\",\"findings\":[]}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, ok := ExtractJSON(text)
		if !ok {
			if got != nil {
				t.Fatalf("not found but returned %q", got)
			}
			return
		}
		var obj map[string]any
		if err := json.Unmarshal(got, &obj); err != nil {
			t.Fatalf("extracted %q is not an object: %v", got, err)
		}
		if !strings.Contains(text, string(got)) {
			t.Fatalf("extracted %q is not part of the text", got)
		}
	})
}

package review

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/org/sandbox-action/pkg/agent"
)

// maxExtract bounds how much of a final message ExtractJSON searches: the
// answer is at its end, and an unbounded search of a pathological text would
// cost time quadratic in its length.
const maxExtract = 256 << 10

// ExtractJSON finds the JSON object an agent gave as its answer in free text:
// the whole text when it is one object; else the last fenced block (```json
// or a bare ```) holding one object; else the last object written in the
// prose. It reports false when there is none.
func ExtractJSON(text string) (json.RawMessage, bool) {
	if len(text) > maxExtract {
		text = text[len(text)-maxExtract:]
	}
	if t := strings.TrimSpace(text); isObject(t) {
		return json.RawMessage(t), true
	}
	if obj, ok := lastFenced(text); ok {
		return obj, true
	}
	// Code in other languages is full of braces that are not the answer.
	return lastObject(outsideFences(text))
}

// outsideFences returns text with every fenced code block left out.
func outsideFences(text string) string {
	var b strings.Builder
	lines := strings.SplitAfter(text, "\n")
	for i := 0; i < len(lines); i++ {
		fence, _, ok := openFence(lines[i])
		if !ok {
			b.WriteString(lines[i])
			continue
		}
		for i++; i < len(lines) && !closesFence(lines[i], fence); i++ {
		}
	}
	return b.String()
}

func closesFence(line, fence string) bool {
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == ""
}

func isObject(s string) bool {
	return len(s) > 1 && s[0] == '{' && json.Valid([]byte(s))
}

// lastFenced returns the last fenced code block whose content is one JSON
// object. An info string other than json (e.g. ```go) is not an answer.
func lastFenced(text string) (json.RawMessage, bool) {
	var found json.RawMessage
	eachFence(text, func(info, body string) {
		if info == "" || strings.EqualFold(info, "json") || strings.EqualFold(info, "jsonc") {
			if t := strings.TrimSpace(body); isObject(t) {
				found = json.RawMessage(t)
			}
		}
	})
	return found, found != nil
}

// eachFence calls fn with the info string and content of every fenced code
// block in text, in order. An unclosed block runs to the end of the text.
func eachFence(text string, fn func(info, body string)) {
	lines := strings.SplitAfter(text, "\n")
	for i := 0; i < len(lines); i++ {
		fence, info, ok := openFence(lines[i])
		if !ok {
			continue
		}
		var body strings.Builder
		j := i + 1
		for ; j < len(lines); j++ {
			if closesFence(lines[j], fence) {
				break
			}
			body.WriteString(lines[j])
		}
		fn(info, body.String())
		i = j
	}
}

// openFence recognises a line opening a fenced code block (``` or ~~~, three
// or more) and returns the fence and the info string's first word.
func openFence(line string) (fence, info string, ok bool) {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 || len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return "", "", false
	}
	n := 0
	for n < len(t) && t[n] == t[0] {
		n++
	}
	if n < 3 {
		return "", "", false
	}
	rest := strings.TrimSpace(t[n:])
	if t[0] == '`' && strings.Contains(rest, "`") {
		return "", "", false
	}
	if f := strings.Fields(rest); len(f) > 0 {
		info = f[0]
	}
	return t[:n], info, true
}

// lastObject returns the last complete top-level JSON object in text. It
// tries each '{' in turn, skipping over an object once found, so nested
// objects are not mistaken for the answer.
func lastObject(text string) (json.RawMessage, bool) {
	b := []byte(text)
	var found json.RawMessage
	for i := 0; i < len(b); {
		k := bytes.IndexByte(b[i:], '{')
		if k < 0 {
			break
		}
		start := i + k
		end := matchBrace(b, start)
		if end > 0 && json.Valid(b[start:end]) {
			found = json.RawMessage(b[start:end])
			i = end
			continue
		}
		i = start + 1
	}
	return found, found != nil
}

// matchBrace returns the index just past the '}' closing the '{' at start,
// honouring JSON strings, or -1.
func matchBrace(b []byte, start int) int {
	depth, inStr, esc := 0, false, false
	for i := start; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case inStr && c == '"':
			inStr = false
		case inStr:
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				if c != '}' {
					return -1
				}
				return i + 1
			}
			if depth < 0 {
				return -1
			}
		}
	}
	return -1
}

// Source says where a review's JSON came from.
type Source string

// Sources.
const (
	// SourceStructured is the CLI's own structured output: Claude's
	// structured_output, Codex's final message under --output-schema.
	SourceStructured Source = "structured_output"
	// SourceFinalText is a JSON object found in the final message (Gemini,
	// which has no schema flag).
	SourceFinalText Source = "final_text"
)

// Output returns the JSON an agent run produced for the review schema, by
// the agent's own rules: Claude only through its structured_output (its text
// may quote JSON it did not mean as the answer); Codex through its final
// message, which --output-schema makes one JSON object (fenced, at worst);
// Gemini and any other program through the last JSON object or fenced block
// of the final message. It reports false when there is none.
func Output(res agent.Result) (json.RawMessage, Source, bool) {
	if len(res.StructuredOutput) > 0 && string(res.StructuredOutput) != "null" {
		return res.StructuredOutput, SourceStructured, true
	}
	if res.Agent == "claude" {
		return nil, "", false
	}
	if obj, ok := ExtractJSON(res.Text); ok {
		return obj, SourceFinalText, true
	}
	// An answer that is meant as JSON but does not parse is reported as
	// invalid (with the parser's error), not as missing.
	if t := strings.TrimSpace(res.Text); strings.HasPrefix(t, "{") {
		return json.RawMessage(t), SourceFinalText, true
	}
	if body, ok := lastJSONFence(res.Text); ok {
		return json.RawMessage(body), SourceFinalText, true
	}
	return nil, "", false
}

// lastJSONFence returns the content of the last ```json block, parsed or
// not.
func lastJSONFence(text string) (string, bool) {
	var last string
	found := false
	eachFence(text, func(info, body string) {
		if strings.EqualFold(info, "json") && strings.TrimSpace(body) != "" {
			last, found = strings.TrimSpace(body), true
		}
	})
	return last, found
}

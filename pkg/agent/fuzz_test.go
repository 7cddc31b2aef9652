package agent

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func FuzzClaude(f *testing.F) { fuzzParser(f, "claude") }
func FuzzCodex(f *testing.F)  { fuzzParser(f, "codex") }
func FuzzGemini(f *testing.F) { fuzzParser(f, "gemini") }

// fuzzParser checks, on any input, that the parser neither panics nor errs,
// that what it emits is valid JSON, that it counts every line, and that a
// run is never a success without the CLI's final result and a clean exit.
func fuzzParser(f *testing.F, agent string) {
	for _, file := range recordings(f, agent) {
		rec := mustRead(f, file)
		f.Add(rec)
		f.Add(rec[:len(rec)/2])
	}
	f.Add([]byte{})
	f.Add([]byte("\n\n \r\n"))
	f.Add([]byte("[1,\"a\",{\"type\":\"result\"}]\n\xff\xfe{\"type\":"))
	a, err := Get(agent)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		wantLines := bytes.Count(data, []byte("\n"))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			wantLines++
		}
		p := a.NewParser(func(e Event) {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("event %+v: %v", e, err)
			}
			if !utf8.Valid(b) {
				t.Fatalf("event is not UTF-8: %q", b)
			}
			if e.Line < 1 || e.Line > wantLines {
				t.Fatalf("event line %d outside 1..%d", e.Line, wantLines)
			}
		})
		if err := p.Parse(bytes.NewReader(data)); err != nil {
			t.Fatalf("parse: %v", err)
		}
		r := p.Finish(0, nil)
		if r.Lines != wantLines {
			t.Fatalf("lines: got %d, want %d", r.Lines, wantLines)
		}
		if r.Success && !p.final {
			t.Fatal("success without a final result")
		}
		if !r.Success && (r.ErrorKind == "" || r.ErrorMessage == "") {
			t.Fatalf("failure without a reason: %+v", r)
		}
		b, err := json.Marshal(r)
		if err != nil || !utf8.Valid(b) {
			t.Fatalf("result JSON %q: %v", b, err)
		}
		if r := p.Finish(3, data); r.Success || r.ErrorMessage == "" || len(r.StderrTail) > TailBytes+3*utf8.UTFMax {
			t.Fatalf("exit 3: %+v", r)
		}
	})
}

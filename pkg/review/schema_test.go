package review

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestValidate(t *testing.T) {
	const ok = `{"summary":"s","verdict":"comment","findings":[{"path":"a.go","line":2,"start_line":1,"side":"RIGHT","severity":"nit","body":"b","suggestion":"x"}]}`
	tests := []struct {
		name    string
		raw     string
		approve bool
		want    []Problem
	}{
		{name: "valid", raw: ok},
		{name: "approve allowed", raw: `{"summary":"s","verdict":"approve","findings":[]}`, approve: true},
		{name: "approve not allowed", raw: `{"summary":"s","verdict":"approve","findings":[]}`,
			want: []Problem{{"verdict", "value must be one of 'comment', 'request_changes'"}}},
		{name: "not JSON", raw: `{"summary":`, want: []Problem{{"(output)", "not valid JSON: unexpected EOF"}}},
		{name: "not an object", raw: `[1]`, want: []Problem{{"(output)", "got array, want object"}}},
		{name: "missing findings", raw: `{"summary":"s","verdict":"comment"}`,
			want: []Problem{{"(output)", "missing property 'findings'"}}},
		{name: "finding missing keys", raw: `{"summary":"s","verdict":"comment","findings":[{"path":"a.go","line":1,"side":"RIGHT","severity":"nit","body":"b"}]}`,
			want: []Problem{{"findings[0]", "missing properties 'start_line', 'suggestion'"}}},
		{name: "line zero", raw: `{"summary":"s","verdict":"comment","findings":[{"path":"a.go","line":0,"start_line":null,"side":"RIGHT","severity":"nit","body":"b","suggestion":null}]}`,
			want: []Problem{{"findings[0].line", "minimum: got 0, want 1"}}},
		{name: "bad side", raw: `{"summary":"s","verdict":"comment","findings":[{"path":"a.go","line":1,"start_line":null,"side":"right","severity":"nit","body":"b","suggestion":null}]}`,
			want: []Problem{{"findings[0].side", "value must be one of 'RIGHT', 'LEFT'"}}},
		{name: "start after line and path escapes", raw: `{"summary":" ","verdict":"comment","findings":[{"path":"../x","line":1,"start_line":1,"side":"RIGHT","severity":"nit","body":"b","suggestion":null}]}`,
			want: []Problem{
				{"findings[0].path", `"../x" must not leave the repository`},
				{"findings[0].start_line", "1 must be before line 1 (or null for a single line)"},
				{"summary", "must not be empty"},
			}},
		{name: "wrong types keep the other checks", raw: `{"summary":"","verdict":"comment","findings":[{"path":"/a","line":"1","start_line":null,"side":"RIGHT","severity":"nit","body":"b","suggestion":null}]}`,
			want: []Problem{
				{"findings[0].line", "got string, want integer"},
				{"findings[0].path", `"/a" must be relative to the repository root`},
				{"summary", "must not be empty"},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Validate([]byte(tc.raw), tc.approve)
			if tc.want == nil {
				assert.NilError(t, err)
				assert.Assert(t, r.Summary != "")
				return
			}
			var inv *InvalidError
			assert.Assert(t, errors.As(err, &inv), "%v", err)
			assert.DeepEqual(t, inv.Problems, tc.want)
			assert.Check(t, is.Contains(err.Error(), "invalid review output: "+tc.want[0].String()))
		})
	}
}

func TestValidateDecodes(t *testing.T) {
	r, err := Validate([]byte(`{"summary":"s","verdict":"request_changes","findings":[
		{"path":"a.go","line":3,"start_line":null,"side":"LEFT","severity":"major","body":"b","suggestion":null},
		{"path":"a.go","line":3,"start_line":2,"side":"RIGHT","severity":"nit","body":"b","suggestion":""}]}`), false)
	assert.NilError(t, err)
	empty := ""
	assert.DeepEqual(t, r, Review{Summary: "s", Verdict: VerdictRequestChanges, Findings: []Finding{
		{Path: "a.go", Line: 3, Side: SideLeft, Severity: SeverityMajor, Body: "b"},
		{Path: "a.go", Line: 3, StartLine: 2, Side: SideRight, Severity: SeverityNit, Body: "b", Suggestion: &empty},
	}})
}

func TestProblemsInIndexOrder(t *testing.T) {
	var fs []string
	for i := 0; i < 12; i++ {
		fs = append(fs, `{"path":"a.go","line":"x","start_line":null,"side":"RIGHT","severity":"nit","body":"b","suggestion":null}`)
	}
	_, err := Validate([]byte(`{"summary":"s","verdict":"comment","findings":[`+strings.Join(fs, ",")+`]}`), false)
	var inv *InvalidError
	assert.Assert(t, errors.As(err, &inv))
	assert.Equal(t, len(inv.Problems), 12)
	for i, p := range inv.Problems {
		assert.Equal(t, p.Field, fmt.Sprintf("findings[%d].line", i))
	}
	assert.Check(t, compareFields("findings[2].line", "findings[10].body") < 0)
	assert.Check(t, compareFields("findings[1].body", "findings[1].line") < 0)
	assert.Check(t, compareFields("findings[1]", "summary") < 0)
	assert.Check(t, compareFields("a[x]", "a[y]") < 0)
}

// A Review marshals back into output the schema accepts (the action's
// structured-output output).
func TestReviewRoundTrip(t *testing.T) {
	sug := "x"
	r := Review{Summary: "s", Verdict: VerdictComment, Findings: []Finding{
		{Path: "a.go", Line: 3, Side: SideRight, Severity: SeverityNit, Body: "b"},
		{Path: "a.go", Line: 3, StartLine: 2, Side: SideRight, Severity: SeverityMajor, Body: "b", Suggestion: &sug},
	}}
	raw, err := json.Marshal(r)
	assert.NilError(t, err)
	back, err := Validate(raw, false)
	assert.NilError(t, err)
	assert.DeepEqual(t, back, r)
}

// The schema must hold in OpenAI's strict structured-output mode, which Codex
// uses for --output-schema: every object closed, every property required,
// every node typed, none of the keywords strict mode refuses.
func TestSchemaStrictMode(t *testing.T) {
	for _, allow := range []bool{false, true} {
		var doc map[string]any
		assert.NilError(t, json.Unmarshal(Schema(allow), &doc))
		assert.Equal(t, doc["$schema"], "https://json-schema.org/draft/2020-12/schema")
		var walk func(path string, node map[string]any)
		walk = func(path string, node map[string]any) {
			for _, kw := range []string{"minLength", "maxLength", "default", "oneOf", "allOf", "not", "if", "patternProperties"} {
				_, has := node[kw]
				assert.Check(t, !has, "%s: %s is not allowed in strict mode", path, kw)
			}
			_, ref := node["$ref"]
			_, typed := node["type"]
			assert.Check(t, ref || typed, "%s: no type", path)
			if props, ok := node["properties"].(map[string]any); ok {
				assert.Check(t, node["additionalProperties"] == false, "%s: additionalProperties must be false", path)
				req := map[string]bool{}
				for _, r := range node["required"].([]any) {
					req[r.(string)] = true
				}
				for name, p := range props {
					assert.Check(t, req[name], "%s: %s is not required", path, name)
					walk(path+"."+name, p.(map[string]any))
				}
			}
			if items, ok := node["items"].(map[string]any); ok {
				walk(path+"[]", items)
			}
			if defs, ok := node["$defs"].(map[string]any); ok {
				for name, d := range defs {
					walk("$defs."+name, d.(map[string]any))
				}
			}
		}
		walk("", doc)
	}
	assert.Check(t, is.Contains(string(Schema(true)), `"approve"`))
	assert.Check(t, !strings.Contains(string(Schema(false)), `"approve"`))
}

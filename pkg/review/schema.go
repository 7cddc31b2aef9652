package review

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// schemaJSON is the published schema. It keeps to what OpenAI's strict
// structured-output mode accepts (every key required, null for "absent",
// additionalProperties false, no string-length keywords), since Codex sends
// it there; the checks strict mode cannot express are made in Go (check).
//
//go:embed schema.json
var schemaJSON []byte

// SchemaFile is the name the schema has in the agent's context directory.
const SchemaFile = "schema.json"

// Schema returns the review schema the agent is given. With allowApprove the
// verdict may also be "approve"; otherwise the bot cannot approve at all.
func Schema(allowApprove bool) []byte {
	if !allowApprove {
		return bytes.Clone(schemaJSON)
	}
	return bytes.Clone(approveSchema())
}

var approveSchema = sync.OnceValue(func() []byte {
	var doc map[string]any
	if err := json.Unmarshal(schemaJSON, &doc); err != nil {
		panic(fmt.Sprintf("review: embedded schema: %v", err))
	}
	verdict := doc["properties"].(map[string]any)["verdict"].(map[string]any)
	verdict["enum"] = []string{string(VerdictComment), string(VerdictRequestChanges), string(VerdictApprove)}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("review: schema: %v", err))
	}
	return append(b, '\n')
})

var compiled [2]func() *jsonschema.Schema

func init() {
	for i := range compiled {
		allow := i == 1
		compiled[i] = sync.OnceValue(func() *jsonschema.Schema {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema(allow)))
			if err != nil {
				panic(fmt.Sprintf("review: schema: %v", err))
			}
			c := jsonschema.NewCompiler()
			const url = "schema.json"
			if err := c.AddResource(url, doc); err != nil {
				panic(fmt.Sprintf("review: schema: %v", err))
			}
			sch, err := c.Compile(url)
			if err != nil {
				panic(fmt.Sprintf("review: schema: %v", err))
			}
			return sch
		})
	}
}

// Problem is one thing wrong with the agent's output.
type Problem struct {
	// Field is where, e.g. "findings[2].line"; "(output)" for the whole
	// document.
	Field string `json:"field"`
	// Message says what is wrong, e.g. "got string, want integer".
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Field + ": " + p.Message }

// InvalidError is output that is not a review: not JSON, or JSON that breaks
// the schema. It lists every problem, so a person can see all at once.
type InvalidError struct {
	Problems []Problem
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid review output: " + strings.Join(parts, "; ")
}

// Validate checks raw against the review schema (with approve allowed or
// not), then the rules the schema cannot express, and returns the review. A
// failure is an *InvalidError.
func Validate(raw []byte, allowApprove bool) (Review, error) {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return Review{}, &InvalidError{[]Problem{{"(output)", "not valid JSON: " + err.Error()}}}
	}
	sch := compiled[0]()
	if allowApprove {
		sch = compiled[1]()
	}
	if err := sch.Validate(inst); err != nil {
		ve, ok := err.(*jsonschema.ValidationError)
		if !ok {
			return Review{}, &InvalidError{[]Problem{{"(output)", err.Error()}}}
		}
		var probs []Problem
		leaves(ve, &probs)
		// Report what the schema cannot say too, from what could be read, so
		// a person sees every problem in one go.
		var r Review
		if _, isObj := inst.(map[string]any); isObj {
			if err := json.Unmarshal(raw, &r); err == nil || errors.As(err, new(*json.UnmarshalTypeError)) {
				probs = append(probs, check(r)...)
			}
		}
		return Review{}, invalid(probs)
	}
	var r Review
	if err := json.Unmarshal(raw, &r); err != nil {
		return Review{}, &InvalidError{[]Problem{{"(output)", err.Error()}}}
	}
	if probs := check(r); len(probs) > 0 {
		return Review{}, invalid(probs)
	}
	return r, nil
}

// invalid sorts the problems by field: the validator walks objects in map
// order, and a person reads a stable list more easily.
func invalid(probs []Problem) *InvalidError {
	slices.SortStableFunc(probs, func(a, b Problem) int {
		return cmp.Or(compareFields(a.Field, b.Field), strings.Compare(a.Message, b.Message))
	})
	return &InvalidError{probs}
}

// compareFields orders field names with their indexes as numbers:
// findings[2] before findings[10].
func compareFields(a, b string) int {
	for a != "" && b != "" {
		ia, ib := strings.IndexByte(a, '['), strings.IndexByte(b, '[')
		if ia < 0 || ib < 0 || a[:ia] != b[:ib] {
			break
		}
		ea, eb := strings.IndexByte(a[ia:], ']'), strings.IndexByte(b[ib:], ']')
		if ea < 0 || eb < 0 {
			break
		}
		na, errA := strconv.Atoi(a[ia+1 : ia+ea])
		nb, errB := strconv.Atoi(b[ib+1 : ib+eb])
		if errA != nil || errB != nil {
			break
		}
		if na != nb {
			return cmp.Compare(na, nb)
		}
		a, b = a[ia+ea+1:], b[ib+eb+1:]
	}
	return strings.Compare(a, b)
}

// leaves collects the innermost errors: the outer ones only say "validation
// failed" around them.
func leaves(e *jsonschema.ValidationError, out *[]Problem) {
	if len(e.Causes) == 0 {
		if ap, ok := e.ErrorKind.(*kind.AdditionalProperties); ok {
			slices.Sort(ap.Properties) // found in map order
		}
		leaf := &jsonschema.ValidationError{ErrorKind: e.ErrorKind}
		msg := leaf.BasicOutput().Error.String()
		*out = append(*out, Problem{fieldName(e.InstanceLocation), msg})
		return
	}
	for _, c := range e.Causes {
		leaves(c, out)
	}
}

// fieldName turns ["findings","2","line"] into "findings[2].line".
func fieldName(loc []string) string {
	if len(loc) == 0 {
		return "(output)"
	}
	var b strings.Builder
	for _, tok := range loc {
		if _, err := strconv.Atoi(tok); err == nil {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// check enforces what the strict-mode schema cannot say.
func check(r Review) []Problem {
	var probs []Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, Problem{field, fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(r.Summary) == "" {
		add("summary", "must not be empty")
	}
	for i, f := range r.Findings {
		at := func(name string) string { return fmt.Sprintf("findings[%d].%s", i, name) }
		switch p := f.Path; {
		case strings.TrimSpace(p) == "":
			add(at("path"), "must not be empty")
		case strings.HasPrefix(p, "/"):
			add(at("path"), "%q must be relative to the repository root", p)
		case p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../"):
			add(at("path"), "%q must not leave the repository", p)
		}
		if f.StartLine != 0 && f.StartLine >= f.Line {
			add(at("start_line"), "%d must be before line %d (or null for a single line)", f.StartLine, f.Line)
		}
		if strings.TrimSpace(f.Body) == "" {
			add(at("body"), "must not be empty")
		}
		if f.Suggestion != nil && f.Side == SideLeft {
			add(at("suggestion"), "only a RIGHT-side finding can suggest a change (this one is LEFT)")
		}
	}
	return probs
}

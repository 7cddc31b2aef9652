// Package review turns what an agent found in a pull request into one GitHub
// review a person can trust: the published JSON schema of a review, its
// validation, the anchoring of each finding to a line of the diff (or, where
// GitHub would refuse it, to the review body), the hidden marker that keeps
// one review per head commit and one comment per finding, the size budget of
// large pull requests, and the Markdown that is posted.
//
// Everything here is pure: no GitHub, no Docker, no clock. The action and
// `sandbox review` call the same Build, so a laptop prints exactly what CI
// posts.
package review

import "encoding/json"

// Verdict is the review's overall conclusion.
type Verdict string

// Verdicts. The bot never approves unless Options.AllowApprove says so.
const (
	VerdictComment        Verdict = "comment"
	VerdictRequestChanges Verdict = "request_changes"
	VerdictApprove        Verdict = "approve"
)

// Side says which version of the file a line number counts in, as GitHub's
// review comments do.
type Side string

// Sides.
const (
	// SideRight is the new version: added and unchanged lines.
	SideRight Side = "RIGHT"
	// SideLeft is the old version: deleted and unchanged lines.
	SideLeft Side = "LEFT"
)

// Severity ranks a finding.
type Severity string

// Severities, most serious first.
const (
	SeverityCritical Severity = "critical"
	SeverityMajor    Severity = "major"
	SeverityMinor    Severity = "minor"
	SeverityNit      Severity = "nit"
)

// Review is a validated review, as the agent produced it.
type Review struct {
	Summary  string    `json:"summary"`
	Verdict  Verdict   `json:"verdict"`
	Findings []Finding `json:"findings"`
}

// Finding is one problem the agent found.
type Finding struct {
	Path string `json:"path"`
	// Line is the finding's line (the last of a range) on Side.
	Line int `json:"line"`
	// StartLine is the first line of a range; zero for a single line.
	StartLine int      `json:"start_line,omitempty"`
	Side      Side     `json:"side"`
	Severity  Severity `json:"severity"`
	Body      string   `json:"body"`
	// Suggestion replaces lines StartLine..Line; nil for none. An empty
	// suggestion is meaningful: it deletes the lines.
	Suggestion *string `json:"suggestion,omitempty"`
}

// MarshalJSON writes every key of the schema, null where a value does not
// apply, so a Review marshals back into output the schema accepts.
func (f Finding) MarshalJSON() ([]byte, error) {
	var start *int
	if f.StartLine > 0 {
		start = &f.StartLine
	}
	return json.Marshal(struct {
		Path       string   `json:"path"`
		Line       int      `json:"line"`
		StartLine  *int     `json:"start_line"`
		Side       Side     `json:"side"`
		Severity   Severity `json:"severity"`
		Body       string   `json:"body"`
		Suggestion *string  `json:"suggestion"`
	}{f.Path, f.Line, start, f.Side, f.Severity, f.Body, f.Suggestion})
}

// firstLine is the first line of the finding's range.
func (f Finding) firstLine() int {
	if f.StartLine > 0 {
		return f.StartLine
	}
	return f.Line
}

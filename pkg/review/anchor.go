package review

import (
	"fmt"
)

// Anchored is a finding with its place in the review: inline on a diff line,
// or in the body with the reason it could not go inline.
type Anchored struct {
	Finding Finding `json:"finding"`
	// Inline is true when GitHub can show the finding on its diff line.
	Inline bool `json:"inline"`
	// Reason says why an outside finding is in the body.
	Reason string `json:"reason,omitempty"`
	// LineText is the content of the finding's line where the diff shows it.
	LineText string `json:"-"`
}

// Anchor places each finding. A finding goes inline only where its line, and
// its start line in the same hunk, exist on its side of the diff: exactly
// what GitHub accepts, so a review is not refused for one bad comment. A
// finding's path is rewritten to the path the pull request knows the file
// by (a renamed file's new path). No finding is dropped: the others are
// returned with Inline false and a reason, for the review body.
func Anchor(d *Diff, findings []Finding) []Anchored {
	out := make([]Anchored, len(findings))
	for i, f := range findings {
		out[i] = anchorOne(d, f)
	}
	return out
}

func anchorOne(d *Diff, f Finding) Anchored {
	if f.Side == "" {
		f.Side = SideRight
	}
	a := Anchored{Finding: f}
	fi := d.lookup(f.Path)
	if fi == nil {
		a.Reason = "the file is not part of the diff"
		return a
	}
	a.Finding.Path = fi.path
	lines := fi.lines(f.Side)
	end, ok := lines[f.Line]
	if ok {
		a.LineText = end.text
	}
	switch {
	case fi.file.IsBinary:
		a.Reason = "the file is binary"
	case fi.file.IsDelete && f.Side == SideRight:
		a.Reason = "the file is deleted: only its old (LEFT) lines can carry a comment"
	case fi.file.IsNew && f.Side == SideLeft:
		a.Reason = "the file is new: it has no old (LEFT) lines"
	case !ok:
		a.Reason = fmt.Sprintf("line %d (%s) is not part of the diff", f.Line, f.Side)
	case f.StartLine > 0:
		start, ok := lines[f.StartLine]
		switch {
		case !ok:
			a.Reason = fmt.Sprintf("start line %d (%s) is not part of the diff", f.StartLine, f.Side)
		case start.hunk != end.hunk:
			a.Reason = fmt.Sprintf("lines %d–%d span more than one hunk of the diff", f.StartLine, f.Line)
		default:
			a.Inline = true
		}
	default:
		a.Inline = true
	}
	return a
}

// Comment is an inline review comment, in the shape of GitHub's draft review
// comment (path, line, side, start_line, start_side, body).
type Comment struct {
	Path      string `json:"path"`
	Line      int    `json:"line"`
	Side      Side   `json:"side"`
	StartLine int    `json:"start_line,omitempty"`
	StartSide Side   `json:"start_side,omitempty"`
	Body      string `json:"body"`
}

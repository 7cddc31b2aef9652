package github

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// markerPrefix starts every hidden marker the action writes. A comment that
// carries it was written by the action and never triggers a run.
const markerPrefix = "<!-- sandbox-action"

// replyMarker tags the action's replies to commands.
const replyMarker = markerPrefix + ":reply -->"

// IsOwnComment reports whether body was written by this action.
func IsOwnComment(body string) bool { return strings.Contains(body, markerPrefix) }

// Marker is the state the status comment carries from one run to the next,
// hidden in an HTML comment on its first line.
type Marker struct {
	// RunID is the workflow run that last wrote the comment.
	RunID int64
	// PRCostUSD is the running total of what every run on the pull request
	// has cost; max-pr-cost-usd is checked against it.
	PRCostUSD float64
	// HeadSHA is the commit the last run looked at.
	HeadSHA string
	// Conclusion is how the last run ended; empty while queued or running.
	Conclusion Conclusion
}

// String renders the marker. Fields are key=value so that a later version
// can add one without breaking an older parser.
func (m Marker) String() string {
	var b strings.Builder
	b.WriteString(markerPrefix + ":status")
	fmt.Fprintf(&b, " run=%d", m.RunID)
	fmt.Fprintf(&b, " pr-cost-usd=%s", strconv.FormatFloat(m.PRCostUSD, 'f', 4, 64))
	if m.HeadSHA != "" {
		fmt.Fprintf(&b, " head=%s", m.HeadSHA)
	}
	if m.Conclusion != "" {
		fmt.Fprintf(&b, " conclusion=%s", m.Conclusion)
	}
	b.WriteString(" -->")
	return b.String()
}

var markerRE = regexp.MustCompile(`<!-- sandbox-action:status((?: [a-z-]+=[^\s]*)*) -->`)

// ParseMarker finds the status marker in body. Unknown keys are ignored and
// a malformed value leaves its field zero: a damaged marker must not stop
// the comment from being found and updated.
func ParseMarker(body string) (Marker, bool) {
	m := markerRE.FindStringSubmatch(body)
	if m == nil {
		return Marker{}, false
	}
	var mk Marker
	for _, kv := range strings.Fields(m[1]) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "run":
			mk.RunID, _ = strconv.ParseInt(v, 10, 64)
		case "pr-cost-usd":
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && !math.IsInf(f, 0) {
				mk.PRCostUSD = f
			}
		case "head":
			mk.HeadSHA = v
		case "conclusion":
			mk.Conclusion = Conclusion(v)
		}
	}
	return mk, true
}

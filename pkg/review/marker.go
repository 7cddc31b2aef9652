package review

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// MarkerPrefix starts the hidden marker in every review body this project
// posts; a comment carrying it is the bot's own.
const MarkerPrefix = "<!-- sandbox-action:review"

// Marker is what a posted review remembers: the head commit it reviewed and
// a fingerprint of each finding it posted.
type Marker struct {
	SHA          string   `json:"sha"`
	Fingerprints []string `json:"fingerprints"`
}

// String renders the marker as an HTML comment GitHub does not display:
// <!-- sandbox-action:review sha=<head> fp=<fp>,<fp> -->.
func (m Marker) String() string {
	return MarkerPrefix + " sha=" + m.SHA + " fp=" + strings.Join(m.Fingerprints, ",") + " -->"
}

var markerRE = regexp.MustCompile(`<!-- sandbox-action:review sha=([0-9A-Za-z]*) fp=([0-9a-f,]*) -->`)

// ParseMarkers returns every marker in body, in order. Text that only looks
// like a marker (a wrong shape) is ignored.
func ParseMarkers(body string) []Marker {
	var out []Marker
	for _, m := range markerRE.FindAllStringSubmatch(body, -1) {
		mk := Marker{SHA: m[1]}
		for _, fp := range strings.Split(m[2], ",") {
			if fp != "" {
				mk.Fingerprints = append(mk.Fingerprints, fp)
			}
		}
		out = append(out, mk)
	}
	return out
}

// Earlier is what the pull request's earlier reviews by this project say.
type Earlier struct {
	// Markers in the order their reviews were posted.
	Markers []Marker
}

// ReadEarlier parses the markers of earlier review bodies, given oldest
// first (as GitHub lists a pull request's reviews). Only the marker that
// ends a body counts, as the action writes it: one further up is text the
// agent wrote into its summary or a finding, which a pull request can talk
// it into. Bodies without one (other people's reviews) are skipped; the
// caller passes only reviews by the action's own kind of account, since
// anyone may write a marker into a review.
func ReadEarlier(bodies []string) Earlier {
	var e Earlier
	for _, b := range bodies {
		if m, ok := endingMarker(b); ok {
			e.Markers = append(e.Markers, m)
		}
	}
	return e
}

// endingMarker is the marker that ends body, trailing white space aside.
func endingMarker(body string) (Marker, bool) {
	body = strings.TrimRight(body, " \t\r\n")
	loc := markerRE.FindAllStringIndex(body, -1)
	if len(loc) == 0 || loc[len(loc)-1][1] != len(body) {
		return Marker{}, false
	}
	ms := ParseMarkers(body[loc[len(loc)-1][0]:])
	return ms[0], true
}

// Reviewed reports whether head was reviewed already.
func (e Earlier) Reviewed(head string) bool {
	for _, m := range e.Markers {
		if m.SHA != "" && strings.EqualFold(m.SHA, head) {
			return true
		}
	}
	return false
}

// LastSHA is the head commit of the latest review; empty when there was none.
func (e Earlier) LastSHA() string {
	for i := len(e.Markers) - 1; i >= 0; i-- {
		if e.Markers[i].SHA != "" {
			return e.Markers[i].SHA
		}
	}
	return ""
}

// Posted is the set of fingerprints of every finding posted so far.
func (e Earlier) Posted() map[string]bool {
	set := map[string]bool{}
	for _, m := range e.Markers {
		for _, fp := range m.Fingerprints {
			set[fp] = true
		}
	}
	return set
}

// fingerprintLen is the hex length of a fingerprint: 48 bits keeps a
// marker with hundreds of findings short, with collisions between one pull
// request's findings out of reach.
const fingerprintLen = 12

// Fingerprint identifies a finding across pushes: its path, its body with
// case and spacing normalised, and the content of its line (empty when the
// diff does not show it). Line numbers are left out on purpose: a push that
// adds lines above an unchanged line moves it without changing it, and the
// finding there is the same finding.
func Fingerprint(path, body, lineText string) string {
	h := sha256.New()
	for _, part := range []string{path, normalise(body), normalise(lineText)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:fingerprintLen]
}

func normalise(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

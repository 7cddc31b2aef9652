// Package redact removes known secret values from text before it leaves the
// process: comments, reviews, step summaries and logs. It is the one place
// that decides what a scrubbed secret looks like, so every front door hides
// secrets the same way.
package redact

import (
	"cmp"
	"slices"
	"strings"
)

// Mask replaces every occurrence of a secret.
const Mask = "***"

// Scrubber replaces a fixed set of secret values. The zero value scrubs
// nothing. It is safe for concurrent use.
type Scrubber struct {
	r *strings.Replacer
}

// New returns a Scrubber for secrets. Empty and blank values are ignored (they
// would match everywhere). A multi-line secret is also scrubbed line by line,
// since a tool that re-wraps or quotes it may print its lines apart; lines
// shorter than 4 bytes are left out there, as they would mask ordinary text.
// Where secrets overlap, the longest wins, so no tail of a secret is left in
// the clear.
func New(secrets ...string) *Scrubber {
	seen := map[string]bool{}
	var values []string
	add := func(v string) {
		if strings.TrimSpace(v) == "" || seen[v] {
			return
		}
		seen[v] = true
		values = append(values, v)
	}
	for _, s := range secrets {
		add(s)
		if t := strings.TrimSpace(s); t != s {
			add(t)
		}
		if strings.ContainsAny(s, "\r\n") {
			for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
				if line = strings.TrimSpace(line); len(line) >= 4 {
					add(line)
				}
			}
		}
	}
	if len(values) == 0 {
		return &Scrubber{}
	}
	// strings.Replacer tries old strings in argument order at each position:
	// longest first makes the longest match win.
	slices.SortFunc(values, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, Mask)
	}
	return &Scrubber{r: strings.NewReplacer(pairs...)}
}

// Scrub returns text with every secret replaced by Mask.
func (s *Scrubber) Scrub(text string) string {
	if s == nil || s.r == nil {
		return text
	}
	return s.r.Replace(text)
}

// Scrub returns text with every occurrence of each secret replaced by Mask.
// Callers scrubbing many texts with the same secrets should use New once.
func Scrub(text string, secrets ...string) string {
	return New(secrets...).Scrub(text)
}

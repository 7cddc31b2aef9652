package github

import (
	"cmp"
	"slices"
	"strings"
)

// newScrubber returns a function masking every secret in a text. The
// longest secret wins where two overlap, so no tail of one is left.
func newScrubber(secrets []string) func(string) string {
	var olds []string
	for _, s := range secrets {
		if strings.TrimSpace(s) != "" && !slices.Contains(olds, s) {
			olds = append(olds, s)
		}
	}
	if len(olds) == 0 {
		return func(s string) string { return s }
	}
	slices.SortFunc(olds, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	pairs := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		pairs = append(pairs, o, "***")
	}
	r := strings.NewReplacer(pairs...)
	return r.Replace
}

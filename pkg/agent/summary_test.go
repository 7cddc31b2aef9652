package agent

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/golden"
)

func TestSummaries(t *testing.T) {
	var b strings.Builder
	files, _ := filepath.Glob("testdata/*/*.jsonl")
	for _, f := range files {
		agent := filepath.Base(filepath.Dir(f))
		res, events := parse(t, agent, mustRead(t, f))
		fmt.Fprintf(&b, "== %s/%s\n", agent, filepath.Base(f))
		for _, e := range events {
			if s := e.Summary(); s != "" {
				fmt.Fprintf(&b, "%s\n", s)
			}
		}
		fmt.Fprintf(&b, "%s\n", res.Summary())
	}
	golden.Assert(t, b.String(), "summaries.golden")
}

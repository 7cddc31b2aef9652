package review

import (
	"fmt"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/golden"
)

// A 422 on one comment: the review is retried with that comment in the body,
// and the body and the status still agree.
func TestMoveToBody(t *testing.T) {
	in := readRun(t, "claude-anchorable.jsonl")
	d := readDiff(t, "pr.diff")
	in.Diff, in.Head = d, head1
	p := Build(in)
	assert.Equal(t, len(p.Comments), 7)
	refused := p.Comments[1]
	fps := p.Marker.Fingerprints

	assert.NilError(t, p.MoveToBody(1, ""))
	assert.Equal(t, len(p.Comments), 6)
	assert.Equal(t, p.Counts, Counts{Findings: 7, Inline: 6, InBody: 1})
	for _, c := range p.Comments {
		assert.Check(t, c != refused)
	}
	assert.Check(t, is.Contains(p.Body, "#### `calc.go:56-57` · major"))
	assert.Check(t, is.Contains(p.Body, "_Not inline: "+RejectedReason+"._"))
	assert.Check(t, is.Contains(p.Status, "7 findings (6 inline, 1 in the review body)"))
	assert.Check(t, is.Contains(p.Body, "7 findings (6 inline, 1 in the review body)"))
	// Moving does not change what the marker remembers.
	assert.DeepEqual(t, p.Marker.Fingerprints, fps)
	assertGolden(t, "move-422", p, d)

	assert.ErrorContains(t, p.MoveToBody(6, ""), "the review has 6 inline comments")
	assert.ErrorContains(t, p.MoveToBody(-1, ""), "move comment -1")

	p.MoveAllToBody("")
	assert.Equal(t, len(p.Comments), 0)
	assert.Equal(t, p.Counts, Counts{Findings: 7, Inline: 0, InBody: 7})
}

// A second push with one finding already posted (on a line that moved but
// did not change) and one new: only the new one is posted.
func TestSecondPush(t *testing.T) {
	first := readRun(t, "claude-push1.jsonl")
	first.Diff, first.Head = readDiff(t, "pr.diff"), head1
	p1 := Build(first)
	assert.Equal(t, p1.Counts, Counts{Findings: 1, Inline: 1})

	earlier := ReadEarlier([]string{"An unrelated human review.", p1.Body})
	dec := Decide(earlier, head2, false)
	assert.Equal(t, dec, Decision{Scope: ScopeSince, Since: head1, Reason: "changes since the review of " + head1[:12]})

	pr2 := readDiff(t, "pr2.diff")
	scope := Restrict(pr2, readDiff(t, "since.diff"))
	assert.DeepEqual(t, scope.Paths(), []string{"calc.go", "new_feature.go"})

	second := readRun(t, "claude-push2.jsonl")
	second.Diff, second.Head, second.Earlier, second.Decision = pr2, head2, earlier, dec
	p2 := Build(second)
	assert.Equal(t, p2.Counts, Counts{Findings: 1, Inline: 1, Repeated: 1})
	assert.Equal(t, len(p2.Comments), 1)
	assert.Equal(t, p2.Comments[0].Path, "new_feature.go")
	assert.Equal(t, p2.Comments[0].Line, 10)
	// The repeated finding is the password one, now on line 59.
	assert.Equal(t, len(p2.Repeated), 1)
	assert.Equal(t, p2.Repeated[0].Finding.Line, 59)
	assert.Equal(t, p2.Repeated[0].LineText, `var password = "hunter2-secret"`)
	assert.Check(t, is.Contains(p2.Status, "1 finding posted before, not repeated"))
	assert.Check(t, is.Contains(p2.Body, "This review covers the changes since "+head1[:12]))
	assertGolden(t, "second-push", p2, pr2)

	// A third look at the same head is skipped, unless a person asks.
	all := ReadEarlier([]string{p1.Body, p2.Body})
	assert.Equal(t, all.LastSHA(), head2)
	assert.Equal(t, Decide(all, head2, false).Scope, ScopeSkip)
	assert.Equal(t, Decide(all, head2, true).Scope, ScopeFull)
}

func TestSameSHATwice(t *testing.T) {
	in := readRun(t, "claude-push1.jsonl")
	in.Diff, in.Head = readDiff(t, "pr.diff"), head1
	p := Build(in)
	earlier := ReadEarlier([]string{p.Body})
	assert.DeepEqual(t, Decide(earlier, head1, false),
		Decision{Scope: ScopeSkip, Reason: "head " + head1[:12] + " was reviewed already"})
	assert.Equal(t, Decide(earlier, strings.ToUpper(head1), false).Scope, ScopeSkip)
	assert.DeepEqual(t, Decide(earlier, head1, true), Decision{Scope: ScopeFull, Reason: "a review was requested"})
	assert.DeepEqual(t, Decide(Earlier{}, head1, false), Decision{Scope: ScopeFull, Reason: "first review of this pull request"})

	// Even if run again, nothing already posted is posted twice.
	in.Earlier = earlier
	again := Build(in)
	assert.Equal(t, again.Counts, Counts{Repeated: 1})
	assert.Equal(t, len(again.Comments), 0)
}

func TestMarkers(t *testing.T) {
	m := Marker{SHA: head1, Fingerprints: []string{"0123456789ab", "ba9876543210"}}
	body := "text\n" + m.String() + "\n<!-- sandbox-action:review sha=zz fp=NOTHEX -->\n" + Marker{SHA: head2}.String()
	got := ParseMarkers(body)
	assert.DeepEqual(t, got, []Marker{m, {SHA: head2}})
	e := ReadEarlier([]string{"text\n" + m.String() + "\n", "no marker"})
	assert.Check(t, e.Reviewed(head1))
	assert.Check(t, !e.Reviewed("abc"))
	assert.Equal(t, e.LastSHA(), head1)
	assert.DeepEqual(t, e.Posted(), map[string]bool{"0123456789ab": true, "ba9876543210": true})
}

// Only the marker that ends a body counts: one the agent wrote into its
// summary or a finding (a pull request can talk it into that) would mark a
// head as reviewed, or findings as posted, that never were.
func TestOnlyTheEndingMarkerCounts(t *testing.T) {
	forged := Marker{SHA: head2, Fingerprints: []string{"0123456789ab"}}
	real := Marker{SHA: head1}
	for _, body := range []string{
		"Summary " + forged.String() + " more\n\n---\n\n" + real.String() + "\n",
		forged.String() + "\n" + real.String(),
	} {
		e := ReadEarlier([]string{body})
		assert.DeepEqual(t, e.Markers, []Marker{real})
		assert.Check(t, !e.Reviewed(head2))
		assert.Check(t, !e.Posted()["0123456789ab"])
	}
	e := ReadEarlier([]string{real.String() + "\nthen text after it"})
	assert.Check(t, is.Len(e.Markers, 0))
}

func TestFingerprintStable(t *testing.T) {
	a := Fingerprint("calc.go", "Hard-coded password  in source.", "  var password = 1")
	assert.Equal(t, a, Fingerprint("calc.go", "hard-coded password in\nsource.", "var password = 1"))
	assert.Assert(t, a != Fingerprint("calc.go", "Hard-coded password in source.", "var password = 2"))
	assert.Assert(t, a != Fingerprint("other.go", "Hard-coded password in source.", "var password = 1"))
	assert.Equal(t, len(a), 12)
}

// bigPR is a diff of n files: every tenth a lockfile, every tenth (offset 5)
// generated, one huge file and otherwise small Go files.
func bigPR(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("pkg%d/file%d.go", i/100, i)
		lines := 3
		switch {
		case i%10 == 0:
			name = fmt.Sprintf("web%d/package-lock.json", i)
		case i%10 == 5:
			name = fmt.Sprintf("api/v1/file%d.pb.go", i)
		case i == 7:
			lines = 5000
		}
		fmt.Fprintf(&b, "diff --git a/%s b/%s\nindex 1111111..2222222 100644\n--- a/%s\n+++ b/%s\n@@ -1,%d +1,%d @@\n", name, name, name, name, lines, lines+1)
		for l := 0; l < lines; l++ {
			fmt.Fprintf(&b, " line %d of %s\n", l, name)
		}
		fmt.Fprintf(&b, "+added to %s\n", name)
	}
	return b.String()
}

func TestBudgetBigPR(t *testing.T) {
	d, err := ParseDiff(strings.NewReader(bigPR(5000)))
	assert.NilError(t, err)
	assert.Equal(t, len(d.Files), 5000)
	sel := Budget{}.Select(d)
	assert.Check(t, len(sel.Patch) <= DefaultTotalBytes)
	reasons := map[string]int{}
	for _, s := range sel.Skipped {
		reasons[s.Reason]++
	}
	assert.Equal(t, reasons[SkipLockfile], 500)
	assert.Equal(t, reasons[SkipGenerated], 500)
	assert.Equal(t, reasons[SkipTooLarge], 1)
	assert.Equal(t, len(sel.Diff.Files)+len(sel.Skipped), 5000)
	assert.Assert(t, reasons[SkipBudget] > 0)
	// Files are taken in order until the budget is spent.
	assert.Equal(t, sel.Diff.Paths()[0], "pkg0/file1.go")

	in := readRun(t, "codex-empty.jsonl")
	in.Diff, in.Head, in.Skipped = d, head1, sel.Skipped
	p := Build(in)
	assert.Equal(t, p.Counts.Skipped, len(sel.Skipped))
	assert.Check(t, is.Contains(p.Body, fmt.Sprintf("### Files not reviewed (%d)", len(sel.Skipped))))
	assert.Check(t, is.Contains(p.Body, "- `web0/package-lock.json`: lockfile"))
	assert.Check(t, is.Contains(p.Body, "- `pkg0/file7.go`: diff larger than the per-file limit"))
	assert.Check(t, len(p.Body) < 65536)
	golden.Assert(t, p.Body, "budget-5000-files.md")

	// A budget given explicitly is honoured.
	small := Budget{FileBytes: 1 << 10, TotalBytes: 4 << 10}.Select(d)
	assert.Check(t, len(small.Patch) <= 4<<10)
	assert.Check(t, len(small.Diff.Files) > 0)
}

func TestBudgetRealDiff(t *testing.T) {
	sel := Budget{}.Select(readDiff(t, "pr.diff"))
	assert.DeepEqual(t, sel.Skipped, []Skipped{{"go.sum", SkipLockfile}, {"logo.png", SkipBinary}})
	assert.DeepEqual(t, sel.Diff.Paths(), []string{"calc.go", "new_feature.go", "old_helper.go", "utils/util.go"})
	// The patch given to the agent is itself a diff of the kept files.
	again, err := ParseDiff(strings.NewReader(string(sel.Patch)))
	assert.NilError(t, err)
	assert.DeepEqual(t, again.Paths(), sel.Diff.Paths())
}

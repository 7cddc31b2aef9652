package review

import (
	"fmt"
	"strings"
)

// GitHub refuses a review or comment body longer than 65 536 characters.
const (
	maxBody        = 60000
	maxFindingBody = 4000
	maxFinalText   = 20000
	maxSkippedList = 50
)

// render writes Body, Comments, Counts and Status from the findings' places.
func (p *Posted) render() {
	p.Comments = []Comment{}
	p.Counts = Counts{Repeated: len(p.Repeated), Skipped: len(p.skipped)}
	for _, a := range p.Findings {
		p.Counts.Findings++
		if !a.Inline {
			p.Counts.InBody++
			continue
		}
		p.Counts.Inline++
		f := a.Finding
		c := Comment{Path: f.Path, Line: f.Line, Side: f.Side, Body: p.scrub.Scrub(commentBody(f))}
		if f.StartLine > 0 {
			c.StartLine, c.StartSide = f.StartLine, f.Side
		}
		p.Comments = append(p.Comments, c)
	}
	switch p.Outcome {
	case OutcomeReviewed:
		p.Body = p.scrub.Scrub(p.body()) + "\n\n" + p.Marker.String() + "\n"
		p.Status = p.scrub.Scrub("Review posted: " + verdictLine(p.Verdict, p.Counts) + "\n")
	case OutcomeNoOutput:
		p.Status = p.scrub.Scrub("Review completed but no structured output found.\n\n" + finalTextBlock(p.finalText))
	case OutcomeInvalid:
		var b strings.Builder
		b.WriteString("Review completed but the structured output is invalid:\n\n")
		for _, pr := range p.Problems {
			fmt.Fprintf(&b, "- `%s`: %s\n", pr.Field, pr.Message)
		}
		b.WriteString("\n")
		b.WriteString(finalTextBlock(p.finalText))
		p.Status = p.scrub.Scrub(b.String())
	}
}

func (p *Posted) body() string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(p.summary))
	b.WriteString("\n\n---\n\n")
	b.WriteString(verdictLine(p.Verdict, p.Counts))
	b.WriteString("\n")
	if p.decision.Scope == ScopeSince {
		fmt.Fprintf(&b, "\nThis review covers the changes since %s.\n", short(p.decision.Since))
	}
	if p.Counts.InBody > 0 {
		b.WriteString("\n### Findings outside the diff\n")
		for _, a := range p.Findings {
			if !a.Inline {
				b.WriteString("\n")
				b.WriteString(outsideFinding(a))
			}
		}
	}
	if len(p.skipped) > 0 {
		fmt.Fprintf(&b, "\n### Files not reviewed (%d)\n\n", len(p.skipped))
		for i, s := range p.skipped {
			if i == maxSkippedList {
				fmt.Fprintf(&b, "- … and %s\n", moreByReason(p.skipped[i:]))
				break
			}
			fmt.Fprintf(&b, "- `%s`: %s\n", s.Path, s.Reason)
		}
	}
	out := strings.TrimRight(b.String(), "\n")
	if len(out) > maxBody {
		cut := strings.LastIndexByte(out[:maxBody], '\n')
		out = out[:max(cut, 0)] + "\n\n_(The rest is cut: GitHub limits a review body to 65 536 characters.)_"
	}
	return out
}

// verdictLine is the sentence the body and the status share, so they cannot
// disagree on the verdict or the counts.
func verdictLine(v Verdict, c Counts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Verdict: %s** · %s", verdictLabel(v), plural(c.Findings, "finding"))
	if c.Findings > 0 {
		fmt.Fprintf(&b, " (%d inline, %d in the review body)", c.Inline, c.InBody)
	}
	if c.Repeated > 0 {
		fmt.Fprintf(&b, " · %s posted before, not repeated", plural(c.Repeated, "finding"))
	}
	if c.Skipped > 0 {
		fmt.Fprintf(&b, " · %s not reviewed", plural(c.Skipped, "file"))
	}
	return b.String()
}

func verdictLabel(v Verdict) string {
	switch v {
	case VerdictRequestChanges:
		return "changes requested"
	case VerdictApprove:
		return "approved"
	}
	return "comment"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func moreByReason(rest []Skipped) string {
	counts := map[string]int{}
	var order []string
	for _, s := range rest {
		if counts[s.Reason] == 0 {
			order = append(order, s.Reason)
		}
		counts[s.Reason]++
	}
	parts := make([]string, len(order))
	for i, r := range order {
		parts[i] = fmt.Sprintf("%d more: %s", counts[r], r)
	}
	return strings.Join(parts, "; ")
}

// location is the finding's `path:line` (or `path:start-line`), the heading
// a reader searches for.
func location(f Finding) string {
	loc := fmt.Sprintf("%s:%d", f.Path, f.Line)
	if f.StartLine > 0 {
		loc = fmt.Sprintf("%s:%d-%d", f.Path, f.StartLine, f.Line)
	}
	return loc
}

func outsideFinding(a Anchored) string {
	f := a.Finding
	var b strings.Builder
	side := ""
	if f.Side == SideLeft {
		side = " (old side)"
	}
	fmt.Fprintf(&b, "#### `%s`%s · %s\n\n", location(f), side, f.Severity)
	fmt.Fprintf(&b, "_Not inline: %s._\n\n", a.Reason)
	b.WriteString(clip(strings.TrimSpace(f.Body), maxFindingBody))
	b.WriteString("\n")
	if f.Suggestion != nil {
		b.WriteString("\nSuggested change:\n\n")
		b.WriteString(fenced("text", *f.Suggestion))
	}
	return b.String()
}

// commentBody is an inline comment: severity, the finding, and a suggestion
// block GitHub offers to apply.
func commentBody(f Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s:** %s\n", f.Severity, clip(strings.TrimSpace(f.Body), maxFindingBody))
	if f.Suggestion != nil {
		b.WriteString("\n")
		b.WriteString(fenced("suggestion", *f.Suggestion))
	}
	return strings.TrimRight(b.String(), "\n")
}

// fenced wraps text in a code fence longer than any run of backticks inside
// it, so a suggestion holding Markdown cannot close its own block.
func fenced(info, text string) string {
	longest, run := 0, 0
	for _, c := range text {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return fence + info + "\n" + fence + "\n"
	}
	return fence + info + "\n" + text + "\n" + fence + "\n"
}

func finalTextBlock(text string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return "The agent gave no final text.\n"
	}
	if len(text) > maxFinalText {
		text = "…" + text[len(text)-maxFinalText:]
	}
	return "The agent's final text:\n\n" + fenced("text", text)
}

// clip shortens s to about n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + " …"
}

// Text renders the review for a terminal as `sandbox review` prints it:
// each inline comment under its diff context, then the review body, then
// the status text.
func (p *Posted) Text(d *Diff) string {
	var b strings.Builder
	if p.Post {
		fmt.Fprintf(&b, "== Inline comments (%d) ==\n", len(p.Comments))
		for _, c := range p.Comments {
			loc := fmt.Sprintf("%s:%d", c.Path, c.Line)
			if c.StartLine > 0 {
				loc = fmt.Sprintf("%s:%d-%d", c.Path, c.StartLine, c.Line)
			}
			fmt.Fprintf(&b, "\n--- %s (%s)\n", loc, c.Side)
			if d != nil {
				for _, l := range d.Context(c.Path, c.Side, c.StartLine, c.Line, 3) {
					fmt.Fprintf(&b, "  | %s\n", l)
				}
			}
			for _, l := range strings.Split(c.Body, "\n") {
				fmt.Fprintf(&b, "  > %s\n", l)
			}
		}
		fmt.Fprintf(&b, "\n== Review body (%s) ==\n\n%s", p.Event, p.Body)
	} else {
		b.WriteString("== No review posted ==\n")
	}
	fmt.Fprintf(&b, "\n== Status ==\n\n%s", p.Status)
	// The diff context is the repository's text, which may hold a secret.
	return p.scrub.Scrub(b.String())
}

package github

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Phase is where a run is.
type Phase string

const (
	PhaseQueued  Phase = "queued"
	PhaseRunning Phase = "running"
	// PhaseDone: the run ended; Status.Conclusion says how.
	PhaseDone Phase = "done"
)

// Conclusion is how a run ended. The values are the action's `conclusion`
// output.
type Conclusion string

const (
	ConclusionSuccess   Conclusion = "success"
	ConclusionFailure   Conclusion = "failure"
	ConclusionTimedOut  Conclusion = "timed_out"
	ConclusionCancelled Conclusion = "cancelled"
	ConclusionSkipped   Conclusion = "skipped"
)

// Status is everything the status comment shows. RenderStatus turns it into
// the comment's Markdown; it does no I/O so every state has a golden file.
type Status struct {
	Phase      Phase
	Conclusion Conclusion
	// Job names what the run does, for the heading: "review", "task",
	// "fix merge conflicts". Empty reads as "run".
	Job string
	// Agent and Model name who did the work, when known.
	Agent string
	Model string
	// HeadSHA is the commit the run looks at.
	HeadSHA string
	// Reason says why a run failed, timed out, was cancelled or skipped.
	Reason string
	// Details is Markdown shown under the heading: the review's summary,
	// the agent's final text, the fallback note.
	Details string
	// StderrTail is the end of the agent's stderr, shown for failures.
	StderrTail string
	// Egress is Markdown of what the sandbox's egress proxy and credential
	// gateway refused (egress.DenyReport.Body), folded in a finished
	// comment: the pull request's people see what the agent tried to
	// reach and how to allow it.
	Egress   string
	CostUSD  float64
	Turns    int
	Duration time.Duration
	// PRCostUSD is the pull request's running total, this run included.
	PRCostUSD float64
	// RunID and RunURL identify the workflow run (see RunURL).
	RunID  int64
	RunURL string
}

// Limits of what the comment shows: GitHub refuses comments over 65 536
// characters, and a wall of stderr helps nobody.
const (
	maxCommentRunes = 60000
	maxDetailsRunes = 40000
	maxStderrLines  = 40
	maxStderrRunes  = 6000
	maxEgressRunes  = 6000
)

// Marker returns the hidden state the rendered comment carries.
func (s Status) Marker() Marker {
	m := Marker{RunID: s.RunID, PRCostUSD: s.PRCostUSD, HeadSHA: s.HeadSHA}
	if s.Phase == PhaseDone {
		m.Conclusion = s.Conclusion
	}
	return m
}

// RenderStatus renders the status comment: the marker, a heading with the
// state, what happened, the figures, and always the link to the run's logs.
func RenderStatus(s Status) string {
	var b strings.Builder
	b.WriteString(s.Marker().String())
	b.WriteString("\n")
	icon, state := s.heading()
	job := s.Job
	if job == "" {
		job = "run"
	}
	fmt.Fprintf(&b, "### %s Sandbox %s: %s\n\n", icon, job, state)

	if line := s.subject(); line != "" {
		b.WriteString(line + "\n\n")
	}
	// The reason and the details carry the agent's words: what they leave
	// open is closed, so that it cannot hide the rest (the egress report,
	// the link to the logs).
	if s.Reason != "" && s.Phase == PhaseDone && s.Conclusion != ConclusionSuccess {
		b.WriteString(closeOpen(strings.TrimSpace(s.Reason)) + "\n\n")
	}
	if d := strings.TrimSpace(s.Details); d != "" {
		d = truncate(d, maxDetailsRunes, "\n\n…(truncated; the full text is in the run logs)")
		b.WriteString(closeOpen(d) + "\n\n")
	}
	if s.Phase == PhaseDone && s.Conclusion != ConclusionSuccess && s.Conclusion != ConclusionSkipped {
		if tail := stderrTail(s.StderrTail); tail != "" {
			fence := fenceFor(tail)
			fmt.Fprintf(&b, "<details><summary>Agent stderr (last lines)</summary>\n\n%stext\n%s\n%s\n\n</details>\n\n", fence, tail, fence)
		}
	}
	if e := strings.TrimSpace(s.Egress); e != "" && s.Phase == PhaseDone {
		fmt.Fprintf(&b, "<details><summary>Egress refused</summary>\n\n%s\n\n</details>\n\n",
			truncate(e, maxEgressRunes, "\n\n…(truncated; the full report is in the step summary)"))
	}
	if facts := s.facts(); facts != "" {
		b.WriteString(facts + "\n\n")
	}
	link := "View run logs"
	if s.RunURL != "" {
		link = fmt.Sprintf("[View run logs](%s)", s.RunURL)
	}
	b.WriteString(link + "\n")
	return truncate(b.String(), maxCommentRunes, "\n\n…(truncated)\n\n"+link+"\n")
}

func (s Status) heading() (icon, state string) {
	switch s.Phase {
	case PhaseQueued:
		return "🕒", "queued"
	case PhaseRunning:
		return "⏳", "running"
	}
	switch s.Conclusion {
	case ConclusionSuccess:
		return "✅", "finished successfully"
	case ConclusionTimedOut:
		return "⌛", "timed out"
	case ConclusionCancelled:
		return "🚫", "cancelled"
	case ConclusionSkipped:
		return "⏭️", "skipped"
	default:
		return "❌", "failed"
	}
}

// subject is the one sentence under the heading of a run in progress.
func (s Status) subject() string {
	sha := shortSHA(s.HeadSHA)
	who := s.Agent
	if who == "" {
		who = "The agent"
	}
	switch s.Phase {
	case PhaseQueued:
		if sha != "" {
			return fmt.Sprintf("Waiting to start on `%s`.", sha)
		}
		return "Waiting to start."
	case PhaseRunning:
		if sha != "" {
			return fmt.Sprintf("%s is working on `%s` in the sandbox.", who, sha)
		}
		return fmt.Sprintf("%s is working in the sandbox.", who)
	}
	return ""
}

// facts is the line of figures of a finished run.
func (s Status) facts() string {
	if s.Phase != PhaseDone {
		return ""
	}
	var parts []string
	if s.Agent != "" {
		a := s.Agent
		if s.Model != "" {
			a += " (" + s.Model + ")"
		}
		parts = append(parts, a)
	}
	if sha := shortSHA(s.HeadSHA); sha != "" {
		parts = append(parts, "`"+sha+"`")
	}
	if s.CostUSD > 0 {
		parts = append(parts, "$"+strconv.FormatFloat(s.CostUSD, 'f', 4, 64))
	}
	if s.Turns > 0 {
		t := fmt.Sprintf("%d turns", s.Turns)
		if s.Turns == 1 {
			t = "1 turn"
		}
		parts = append(parts, t)
	}
	if s.Duration > 0 {
		parts = append(parts, s.Duration.Round(time.Second).String())
	}
	if s.PRCostUSD > 0 {
		parts = append(parts, "PR total $"+strconv.FormatFloat(s.PRCostUSD, 'f', 4, 64))
	}
	return strings.Join(parts, " · ")
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// stderrTail keeps the last lines of stderr within the limits.
func stderrTail(s string) string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n \t")
	if strings.TrimSpace(s) == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > maxStderrLines {
		lines = lines[len(lines)-maxStderrLines:]
	}
	s = strings.Join(lines, "\n")
	if r := []rune(s); len(r) > maxStderrRunes {
		s = "…" + string(r[len(r)-maxStderrRunes:])
	}
	return s
}

// fenceFor returns a backtick fence longer than any run of backticks in s,
// so that stderr cannot close the code block and inject Markdown.
// closeOpen closes what md leaves open at its end and would swallow what
// follows it: a fenced code block (the rest would be code) or an HTML
// comment (the rest would not show at all). A comment opener inside a
// fence is code, not a comment.
func closeOpen(md string) string {
	fence, comment := "", false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case comment:
			comment = !strings.Contains(line, "-->")
			if !comment {
				comment = opensComment(line[strings.Index(line, "-->")+3:])
			}
		case fence != "":
			_, rest := indentation(line)
			if closesFence(strings.TrimRight(rest, " \t"), fence) {
				fence = ""
			}
		default:
			indent, rest := indentation(line)
			if f := openFence(rest); f != "" && indent < 4 {
				fence = f
				continue
			}
			comment = opensComment(line)
		}
	}
	switch {
	case fence != "":
		return md + "\n" + fence
	case comment:
		return md + " -->"
	}
	return md
}

// opensComment reports whether line leaves an HTML comment open.
func opensComment(line string) bool {
	o := strings.LastIndex(line, "<!--")
	return o >= 0 && !strings.Contains(line[o:], "-->")
}

func fenceFor(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func truncate(s string, n int, note string) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-len([]rune(note))]) + note
}

// RunURL is the link to the workflow run's logs, from the runner's
// environment (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID); empty
// when they are not set.
func RunURL(getenv func(string) string) string {
	server, repo, run := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")
	if repo == "" || run == "" {
		return ""
	}
	if server == "" {
		server = "https://github.com"
	}
	return strings.TrimRight(server, "/") + "/" + repo + "/actions/runs/" + run
}

// RunID is GITHUB_RUN_ID as a number, 0 when unset or malformed.
func RunID(getenv func(string) string) int64 {
	n, _ := strconv.ParseInt(getenv("GITHUB_RUN_ID"), 10, 64)
	return n
}

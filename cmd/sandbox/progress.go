package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/org/sandbox-action/pkg/agent"
)

// progressWidth bounds one progress line, so a huge message or tool input
// stays one readable line.
const progressWidth = 160

// progress prints one line per agent event a person cares about.
type progress struct {
	w io.Writer
	// lastMessage is the last assistant text shown, so the final answer
	// is not printed twice when it was also the last message.
	lastMessage string
}

func (p *progress) event(e agent.Event) {
	var line string
	switch e.Kind {
	case agent.KindInit:
		line = "● session " + e.SessionID
		if e.Model != "" {
			line += " (" + e.Model + ")"
		}
	case agent.KindMessage:
		line = "◆ " + e.Text
		p.lastMessage = strings.TrimSpace(e.Text)
	case agent.KindToolCall:
		line = "→ " + e.Tool + " " + compactJSON(e.Input)
	case agent.KindToolResult:
		status := "ok"
		if e.IsError {
			status = "error"
		}
		line = "← " + status + " " + e.Text
	case agent.KindError:
		line = "! " + e.Text
	case agent.KindText:
		line = e.Text
	default:
		return
	}
	fmt.Fprintln(p.w, oneLine(line))
}

// result prints the run's outcome: success with cost and duration, or why
// it failed.
func (p *progress) result(r agent.Result, wall time.Duration) {
	if text := strings.TrimSpace(r.Text); text != "" && text != p.lastMessage {
		fmt.Fprintf(p.w, "\n%s\n\n", strings.TrimSpace(r.Text))
	}
	if len(r.StructuredOutput) > 0 {
		fmt.Fprintf(p.w, "structured output: %s\n", oneLine(compactJSON(r.StructuredOutput)))
	}
	facts := []string{
		fmt.Sprintf("cost $%.4f", r.CostUSD),
		fmt.Sprintf("%d turns", r.Turns),
		fmt.Sprintf("%d tool calls", r.ToolCalls),
		fmt.Sprintf("%d in / %d out tokens", r.Usage.Input, r.Usage.Output),
		"wall " + wall.Round(time.Millisecond).String(),
	}
	if r.Duration > 0 {
		facts = append(facts, "agent "+r.Duration.Round(time.Millisecond).String())
	}
	if r.SessionID != "" {
		facts = append(facts, "session "+r.SessionID)
	}
	mark := "✓ success"
	if !r.Success {
		mark = fmt.Sprintf("✗ failed (%s): %s", r.ErrorKind, r.ErrorMessage)
	}
	fmt.Fprintf(p.w, "%s · %s\n", oneLine(mark), strings.Join(facts, " · "))
}

func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// oneLine folds s onto one line of at most progressWidth runes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= progressWidth {
		return s
	}
	r := []rune(s)
	return string(r[:progressWidth-1]) + "…"
}

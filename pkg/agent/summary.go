package agent

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// summaryWidth bounds a one-line summary, so a tool's whole output never
// floods a progress display.
const summaryWidth = 120

// Summary renders e as one short line for live progress, or "" for events
// not worth a line (notices, usage, reasoning).
func (e Event) Summary() string {
	switch e.Kind {
	case KindInit:
		s := "session " + e.SessionID
		if e.Model != "" {
			s += " (" + e.Model + ")"
		}
		return s
	case KindMessage:
		return oneLine("says: " + e.Text)
	case KindToolCall:
		return oneLine(fmt.Sprintf("tool %s %s", e.Tool, inputSummary(e.Input)))
	case KindToolResult:
		if e.IsError {
			return oneLine("tool failed: " + e.Text)
		}
		return ""
	case KindError:
		if e.Code != "" {
			return oneLine(fmt.Sprintf("error (%s): %s", e.Code, e.Text))
		}
		return oneLine("error: " + e.Text)
	case KindText:
		return oneLine(e.Text)
	case KindUnknown:
		return "unknown event " + e.AgentType
	}
	return ""
}

// inputSummary picks the argument that says what a tool call does.
func inputSummary(in json.RawMessage) string {
	var args map[string]json.RawMessage
	if json.Unmarshal(in, &args) == nil {
		for _, k := range []string{"command", "file_path", "path", "dir_path", "pattern", "query", "url", "description"} {
			var s string
			if json.Unmarshal(args[k], &s) == nil && s != "" {
				return s
			}
		}
	}
	return string(in)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > summaryWidth {
		s = string(r[:summaryWidth-1]) + "…"
	}
	return s
}

// Summary renders r as one line: outcome, duration, turns, tool calls and
// cost where known, and the reason for a failure.
func (r Result) Summary() string {
	var b strings.Builder
	if r.Success {
		fmt.Fprintf(&b, "%s succeeded", r.Agent)
	} else {
		fmt.Fprintf(&b, "%s failed", r.Agent)
	}
	switch {
	case r.Duration >= time.Second:
		fmt.Fprintf(&b, " in %s", r.Duration.Round(100*time.Millisecond))
	case r.Duration > 0:
		fmt.Fprintf(&b, " in %s", r.Duration)
	}
	fmt.Fprintf(&b, ": %d turns, %d tool calls", r.Turns, r.ToolCalls)
	if r.CostUSD > 0 {
		fmt.Fprintf(&b, ", $%.4f", r.CostUSD)
	}
	if r.Usage.Input+r.Usage.Output > 0 {
		fmt.Fprintf(&b, ", %d in / %d out tokens", r.Usage.Input+r.Usage.CacheRead+r.Usage.CacheWrite, r.Usage.Output)
	}
	if !r.Success {
		fmt.Fprintf(&b, " (%s: %s)", r.ErrorKind, oneLine(r.ErrorMessage))
	}
	return b.String()
}

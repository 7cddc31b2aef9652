package github

import (
	"fmt"
	"strings"
)

// DefaultTrigger is the mention that starts a command.
const DefaultTrigger = "@sandbox-bot"

// Verb is what a command asks for.
type Verb string

const (
	VerbReview       Verb = "review"
	VerbFixConflicts Verb = "fix merge conflicts"
	VerbAddress      Verb = "address the issues"
	VerbHelp         Verb = "help"
	// VerbUnknown: the trigger started a line but what followed is not a
	// command; Command.Text holds it for the reply.
	VerbUnknown Verb = "unknown"
)

// Verbs are the known commands, in the order help lists them.
var Verbs = []Verb{VerbReview, VerbFixConflicts, VerbAddress, VerbHelp}

// verbDoc is the one-line description help gives of each verb.
var verbDoc = map[Verb]string{
	VerbReview:       "review this pull request (again)",
	VerbFixConflicts: "resolve merge conflicts with the base branch",
	VerbAddress:      "make the changes the review comments ask for",
	VerbHelp:         "show this list",
}

// phrases map the accepted wordings (lower case, single spaces) to a verb.
var phrases = map[string]Verb{
	"review":              VerbReview,
	"review this pr":      VerbReview,
	"fix merge conflicts": VerbFixConflicts,
	"address the issues":  VerbAddress,
	"help":                VerbHelp,
	"":                    VerbHelp,
}

// Command is a command found in a comment.
type Command struct {
	Verb Verb
	// Text is what followed the trigger on its line, trimmed.
	Text string
	// Line is the 1-based line of the comment it was found on.
	Line int
}

// ParseCommand finds the first command in body: a line that starts with the
// trigger (case-insensitive, up to three spaces of indentation) outside
// quotes ("> " lines), code (fenced or indented) and HTML comments, which
// GitHub does not show. A mention anywhere else is conversation, not a
// command. The trigger must be followed by a space or the end of the line,
// so "@sandbox-bots" is not "@sandbox-bot". ok is false when there is no
// command at all.
func ParseCommand(trigger, body string) (cmd Command, ok bool) {
	trigger = strings.ToLower(strings.TrimSpace(trigger))
	if trigger == "" {
		return Command{}, false
	}
	var fence string   // the open code fence ("```", "~~~~"…), if any
	inComment := false // inside an HTML comment, which GitHub does not show
	for i, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		line = strings.TrimRight(line, " \t\r")
		if inComment {
			// What follows "-->" on this line does not start a line.
			inComment = !strings.Contains(line, "-->")
			continue
		}
		if opens := strings.LastIndex(line, "<!--"); opens >= 0 && fence == "" && !strings.Contains(line[opens:], "-->") {
			inComment = true
		}
		indent, rest := indentation(line)
		if fence != "" {
			if indent < 4 && closesFence(rest, fence) {
				fence = ""
			}
			continue
		}
		if indent >= 4 {
			continue // indented code, or a paragraph's continuation
		}
		if f := openFence(rest); f != "" {
			fence = f
			continue
		}
		if strings.HasPrefix(rest, ">") {
			continue
		}
		if len(rest) < len(trigger) || !strings.EqualFold(rest[:len(trigger)], trigger) {
			continue
		}
		after := rest[len(trigger):]
		if after != "" && after[0] != ' ' && after[0] != '\t' {
			continue
		}
		text := strings.TrimSpace(after)
		return Command{Verb: verbOf(text), Text: text, Line: i + 1}, true
	}
	return Command{}, false
}

// verbOf matches the words after the trigger against the known phrases,
// ignoring case, repeated spaces and a final "." or "!".
func verbOf(text string) Verb {
	norm := strings.Join(strings.Fields(strings.ToLower(text)), " ")
	norm = strings.TrimRight(norm, ".!")
	norm = strings.TrimSpace(norm)
	if v, ok := phrases[norm]; ok {
		return v
	}
	return VerbUnknown
}

// indentation counts leading spaces (a tab counts as four) and returns the
// rest of the line.
func indentation(line string) (int, string) {
	n := 0
	for i, r := range line {
		switch r {
		case ' ':
			n++
		case '\t':
			n += 4 - n%4
		default:
			return n, line[i:]
		}
	}
	return n, ""
}

// openFence returns the fence a line opens: three or more backticks or
// tildes.
func openFence(s string) string {
	for _, c := range []string{"`", "~"} {
		n := len(s) - len(strings.TrimLeft(s, c))
		if n >= 3 {
			return strings.Repeat(c, n)
		}
	}
	return ""
}

// closesFence reports whether s closes fence: the same character, at least as
// many, and nothing else.
func closesFence(s, fence string) bool {
	c := fence[:1]
	n := len(s) - len(strings.TrimLeft(s, c))
	return n >= len(fence) && strings.TrimSpace(s[n:]) == ""
}

// HelpText is the reply to "help", listing the known commands.
func HelpText(trigger string) string {
	var b strings.Builder
	b.WriteString("Commands (start a line with them; quoted text and code are ignored):\n\n")
	for _, v := range Verbs {
		fmt.Fprintf(&b, "- `%s %s` — %s\n", trigger, v, verbDoc[v])
	}
	return b.String()
}

// UnknownText is the reply to a command that is not one.
func UnknownText(trigger string, cmd Command) string {
	return fmt.Sprintf("I don't know the command `%s %s`.\n\n%s", trigger, oneLine(cmd.Text, 80), HelpText(trigger))
}

// oneLine shortens s to at most n runes and strips backticks, so a quoted
// command cannot break out of its code span.
func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "`", "'")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// NotAvailableText is the reply to a known command this version cannot run
// yet.
func NotAvailableText(trigger string, v Verb) string {
	return fmt.Sprintf("`%s %s` is not available yet in this version of the action; nothing was changed.\n\n%s", trigger, v, HelpText(trigger))
}

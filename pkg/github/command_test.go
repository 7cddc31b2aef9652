package github

import (
	"strings"
	"testing"
	"unicode/utf8"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/golden"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name string
		body string
		ok   bool
		verb Verb
		text string
		line int
	}{
		{name: "review", body: "@sandbox-bot review", ok: true, verb: VerbReview, text: "review", line: 1},
		{name: "review this pr", body: "@sandbox-bot review this PR", ok: true, verb: VerbReview, text: "review this PR", line: 1},
		{name: "case-insensitive", body: "@Sandbox-Bot REVIEW This Pr.", ok: true, verb: VerbReview, text: "REVIEW This Pr.", line: 1},
		{name: "extra spaces", body: "@sandbox-bot   fix   merge  conflicts  ", ok: true, verb: VerbFixConflicts, text: "fix   merge  conflicts", line: 1},
		{name: "address", body: "@sandbox-bot address the issues!", ok: true, verb: VerbAddress, text: "address the issues!", line: 1},
		{name: "help", body: "@sandbox-bot help", ok: true, verb: VerbHelp, text: "help", line: 1},
		{name: "bare trigger is help", body: "@sandbox-bot", ok: true, verb: VerbHelp, line: 1},
		{name: "unknown", body: "@sandbox-bot deploy to prod", ok: true, verb: VerbUnknown, text: "deploy to prod", line: 1},
		{name: "review with more words is unknown", body: "@sandbox-bot review please", ok: true, verb: VerbUnknown, text: "review please", line: 1},
		{name: "later line", body: "Thanks!\r\n\r\n@sandbox-bot review\r\n", ok: true, verb: VerbReview, text: "review", line: 3},
		{name: "indented up to three", body: "   @sandbox-bot review", ok: true, verb: VerbReview, text: "review", line: 1},
		{name: "tab after trigger", body: "@sandbox-bot\treview", ok: true, verb: VerbReview, text: "review", line: 1},
		{name: "first command wins", body: "@sandbox-bot help\n@sandbox-bot review", ok: true, verb: VerbHelp, text: "help", line: 1},
		{name: "after a closed fence", body: "```\n@sandbox-bot help\n```\n@sandbox-bot review", ok: true, verb: VerbReview, text: "review", line: 4},

		{name: "mid-line mention", body: "could @sandbox-bot review this?", ok: false},
		{name: "quoted", body: "> @sandbox-bot review", ok: false},
		{name: "quoted without space", body: ">@sandbox-bot review", ok: false},
		{name: "nested quote", body: "> > @sandbox-bot review", ok: false},
		{name: "fenced code", body: "```\n@sandbox-bot review\n```", ok: false},
		{name: "tilde fence", body: "~~~sh\n@sandbox-bot review\n~~~", ok: false},
		{name: "unclosed fence", body: "```\n@sandbox-bot review", ok: false},
		{name: "longer fence not closed by shorter", body: "````\n```\n@sandbox-bot review\n````", ok: false},
		{name: "indented code", body: "    @sandbox-bot review", ok: false},
		{name: "tab-indented code", body: "\t@sandbox-bot review", ok: false},
		{name: "other trigger", body: "@sandbox-bots review", ok: false},
		{name: "prefix of trigger", body: "@sandbox review", ok: false},
		{name: "empty", body: "", ok: false},
		{name: "inline code", body: "`@sandbox-bot review`", ok: false},
		// An HTML comment is invisible on GitHub: a command there would
		// start a run nobody reading the thread can see was asked for.
		{name: "html comment", body: "<!--\n@sandbox-bot review\n-->", ok: false},
		{name: "html comment with text", body: "Looks good <!-- note\n@sandbox-bot review\n-->", ok: false},
		{name: "unclosed html comment", body: "<!--\n@sandbox-bot review", ok: false},
		{name: "after a closed html comment", body: "<!-- x -->\n@sandbox-bot review", ok: true, verb: VerbReview, text: "review", line: 2},
		{name: "html comment closed mid-line", body: "<!--\nx --> @sandbox-bot review\n@sandbox-bot help", ok: true, verb: VerbHelp, text: "help", line: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd, ok := ParseCommand(DefaultTrigger, tc.body)
			assert.Equal(t, ok, tc.ok)
			if !tc.ok {
				return
			}
			assert.Equal(t, cmd, Command{Verb: tc.verb, Text: tc.text, Line: tc.line})
		})
	}
}

func TestParseCommandOtherTrigger(t *testing.T) {
	cmd, ok := ParseCommand("@ci-agent", "@CI-agent review")
	assert.Check(t, ok)
	assert.Equal(t, cmd.Verb, VerbReview)
	_, ok = ParseCommand("@ci-agent", "@sandbox-bot review")
	assert.Check(t, !ok)
	_, ok = ParseCommand("  ", "@sandbox-bot review")
	assert.Check(t, !ok, "an empty trigger matches nothing")
}

func TestReplies(t *testing.T) {
	golden.Assert(t, HelpText(DefaultTrigger), "reply-help.golden")
	cmd, _ := ParseCommand(DefaultTrigger, "@sandbox-bot deploy `rm -rf /` now please, and then do a great many other things beyond eighty runes")
	golden.Assert(t, UnknownText(DefaultTrigger, cmd), "reply-unknown.golden")
	golden.Assert(t, refusedText("mallory", PermissionRead, PermissionWrite), "reply-refused.golden")
	golden.Assert(t, NotAvailableText(DefaultTrigger, VerbFixConflicts), "reply-not-available.golden")
}

// FuzzParseCommand checks what must hold for any comment: no panic, a
// found command is on a real line that starts with the trigger, outside a
// quote, and its verb agrees with its text.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"@sandbox-bot review", "@sandbox-bot review this pr", "> @sandbox-bot review",
		"```\n@sandbox-bot review\n```", "    @sandbox-bot help", "x\r\n@SANDBOX-BOT fix merge conflicts",
		"~~~~\n~~~\n@sandbox-bot help\n~~~~\n@sandbox-bot address the issues", "@sandbox-bot", "@sandbox-bot\t\t",
		"\t \t@sandbox-bot review", "@sandbox-bot rëview", "\xff@sandbox-bot review", "```@sandbox-bot review",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cmd, ok := ParseCommand(DefaultTrigger, body)
		if !ok {
			return
		}
		lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
		if cmd.Line < 1 || cmd.Line > len(lines) {
			t.Fatalf("line %d out of range 1..%d", cmd.Line, len(lines))
		}
		_, rest := indentation(lines[cmd.Line-1])
		if !strings.HasPrefix(strings.ToLower(rest), DefaultTrigger) {
			t.Fatalf("line %q does not start with the trigger", lines[cmd.Line-1])
		}
		if strings.HasPrefix(rest, ">") {
			t.Fatalf("command in a quote: %q", lines[cmd.Line-1])
		}
		if !strings.Contains(lines[cmd.Line-1], cmd.Text) {
			t.Fatalf("text %q not on its line %q", cmd.Text, lines[cmd.Line-1])
		}
		if cmd.Verb != verbOf(cmd.Text) {
			t.Fatalf("verb %q disagrees with text %q", cmd.Verb, cmd.Text)
		}
		if utf8.ValidString(body) && !utf8.ValidString(UnknownText(DefaultTrigger, cmd)) {
			t.Fatalf("reply is not valid UTF-8")
		}
	})
}

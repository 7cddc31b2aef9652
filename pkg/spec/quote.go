package spec

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// shellQuote returns s as one bash word. Words made only of characters bash
// gives no meaning stay bare. Anything else is single-quoted, or ANSI-C
// quoted ($'...') when it holds a newline, another control character or
// invalid UTF-8: the printed command then stays on one line and cannot send
// escape sequences to the terminal that shows it. s must not contain NUL,
// which no argv can carry (Validate rejects it).
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, needsQuote) == -1 {
		return s
	}
	if !needsANSIC(s) {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\'' || r == '!':
			// As hex, because interactive bash looks for history
			// expansion before it knows about $'...' quoting.
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r != ' ' && !unicode.IsPrint(r):
			// Escape each byte, so that C1 controls and invisible format
			// characters show up instead of acting.
			for _, c := range []byte(s[i : i+size]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('\'')
	return b.String()
}

// needsQuote reports whether r needs quoting: everything but letters, digits
// and the few punctuation marks bash treats as ordinary in any position.
func needsQuote(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("@%+=:,./_-", r)
}

func needsANSIC(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.IndexFunc(s, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }) != -1
}

// QuoteCommand returns args as one line of bash words, quoted as in
// CommandLine, for any command a person is told to run.
func QuoteCommand(args ...string) string { return quoteArgs(args) }

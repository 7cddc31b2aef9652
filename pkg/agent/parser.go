package agent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxLineBytes is the longest line a parser accepts. A longer line is skipped
// with a KindError event (Code "line_too_long"), so a runaway tool output
// cannot make the parser hold unbounded memory.
const MaxLineBytes = 16 << 20

// TailBytes is how much of the end of the agent's standard error (and of a
// plain program's output) a Result keeps.
const TailBytes = 4 << 10

// maxUnknownTypes bounds Result.UnknownTypes against a stream that invents a
// new type on every line.
const maxUnknownTypes = 64

// decoder is the part of a parser that knows one CLI's events.
type decoder interface {
	// object handles one line holding a JSON object. It returns false when
	// the line is not valid JSON, so the parser keeps it as text.
	object(p *Parser, line []byte) bool
	// end runs when the stream ends, to send what the decoder held back.
	end(p *Parser)
	// finish completes r once the stream has ended, without changing the
	// decoder, so Finish can be called more than once.
	finish(r *Result)
}

// Parser reads one agent's standard output. Parse and Finish must not be
// called concurrently; emit runs on the goroutine that calls Parse.
type Parser struct {
	dec  decoder
	emit func(Event)
	res  Result
	// final is set once the CLI printed its terminal result.
	final bool
	// lastError is the latest error the stream reported, the best reason
	// left when the run ends without a result.
	lastError string
	skipped   int
	readErr   error
	// plain keeps the end of every line for the command adapter's Text.
	plain *Tail
}

func newParser(agent string, dec decoder, emit func(Event)) *Parser {
	return &Parser{dec: dec, emit: emit, res: Result{Agent: agent}}
}

// Parse reads r to its end, emitting events as lines arrive. Lines that are
// not JSON become KindText events; nothing in the stream is fatal. It returns
// only an error reading r, which Finish also reports.
func (p *Parser) Parse(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // a line longer than br's buffer, gathered
	tooLong := false
	for {
		frag, err := br.ReadSlice('\n')
		if !tooLong {
			switch {
			case len(long)+len(frag) > MaxLineBytes:
				tooLong, long = true, long[:0]
			case errors.Is(err, bufio.ErrBufferFull) || len(long) > 0:
				long = append(long, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line := frag
		if len(long) > 0 {
			line = long
		}
		switch {
		case tooLong:
			p.skipLine()
		case len(line) > 0:
			p.handle(line)
		}
		tooLong, long = false, long[:0]
		if cap(long) > 1<<20 {
			long = nil // don't pin a huge buffer for the rest of the stream
		}
		if err != nil {
			p.dec.end(p)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			p.readErr = err
			return fmt.Errorf("read agent output: %w", err)
		}
	}
}

func (p *Parser) skipLine() {
	p.res.Lines++
	p.skipped++
	p.send(Event{Kind: KindError, Code: "line_too_long",
		Text: fmt.Sprintf("line %d is longer than %d MiB; skipped", p.res.Lines, MaxLineBytes>>20)})
}

func (p *Parser) handle(line []byte) {
	p.res.Lines++
	line = bytes.TrimRight(line, "\r\n")
	if !utf8.Valid(line) {
		line = bytes.ToValidUTF8(line, []byte("\uFFFD"))
	}
	if p.plain != nil {
		p.plain.Write(line)
		p.plain.Write([]byte{'\n'})
		p.text(line)
		return
	}
	body := bytes.TrimLeft(line, " \t")
	switch {
	case len(body) == 0:
		return
	case body[0] == '{':
		if p.dec.object(p, body) {
			return
		}
	case body[0] == '[':
		// `--output-format json --verbose` prints every event in one array.
		var items []json.RawMessage
		if json.Unmarshal(body, &items) == nil {
			for _, it := range items {
				if len(it) == 0 || it[0] != '{' || !p.dec.object(p, it) {
					p.text(it)
				}
			}
			return
		}
	}
	p.text(line)
}

func (p *Parser) text(line []byte) {
	p.send(Event{Kind: KindText, Text: string(line)})
}

// send stamps e with the current line, unless it has one, and hands it to
// emit.
func (p *Parser) send(e Event) {
	if e.Line == 0 {
		e.Line = p.res.Lines
	}
	if p.emit != nil {
		p.emit(e)
	}
}

// unknown keeps an event of a type the decoder does not know.
func (p *Parser) unknown(agentType string, line []byte) {
	p.res.Unknown++
	if p.res.UnknownTypes == nil {
		p.res.UnknownTypes = map[string]int{}
	}
	key := agentType
	if _, ok := p.res.UnknownTypes[key]; !ok && len(p.res.UnknownTypes) >= maxUnknownTypes {
		key = "(other)"
	}
	p.res.UnknownTypes[key]++
	p.send(Event{Kind: KindUnknown, AgentType: agentType, Raw: bytes.Clone(line)})
}

func (p *Parser) notice(agentType, text string) {
	p.send(Event{Kind: KindNotice, AgentType: agentType, Text: text})
}

func (p *Parser) toolCall(e Event) {
	p.res.ToolCalls++
	e.Kind = KindToolCall
	p.send(e)
}

func (p *Parser) reportError(agentType, code, msg string) {
	if msg != "" {
		p.lastError = msg
	}
	p.send(Event{Kind: KindError, AgentType: agentType, Code: code, Text: msg})
}

func (p *Parser) setSession(id, model string) {
	if id != "" {
		p.res.SessionID = id
	}
	if model != "" {
		p.res.Model = model
	}
}

// fail records the run's failure, keeping the first reason given.
func (r *Result) fail(kind, msg string) {
	r.Success = false
	if r.ErrorKind == "" {
		r.ErrorKind = kind
	}
	if r.ErrorMessage == "" {
		r.ErrorMessage = msg
	}
}

// Finish combines what the stream said with how the process ended: its exit
// code and the end of its standard error (only the last TailBytes are kept).
// A stream without the CLI's final result is a failure with ErrNoResult.
func (p *Parser) Finish(exitCode int, stderrTail []byte) Result {
	r := p.res
	r.UnknownTypes = cloneMap(p.res.UnknownTypes)
	r.ExitCode = exitCode
	if len(stderrTail) > TailBytes {
		stderrTail = stderrTail[len(stderrTail)-TailBytes:]
	}
	r.StderrTail = strings.ToValidUTF8(string(stderrTail), "\uFFFD")
	p.dec.finish(&r)
	switch {
	case p.plain != nil:
		r.Text = string(p.plain.Bytes())
		r.Success = exitCode == 0
		if !r.Success {
			r.fail(ErrExitCode, fmt.Sprintf("exited with code %d", exitCode))
		}
	case !p.final:
		r.Success = false
		r.ErrorKind, r.ErrorMessage = ErrNoResult, p.noResultReason(exitCode, r.StderrTail)
	case r.Success && exitCode != 0:
		r.fail(ErrExitCode, fmt.Sprintf("agent reported success but exited with code %d", exitCode))
	case !r.Success && r.ErrorMessage == "":
		r.fail(ErrAgent, "agent reported failure without a reason")
	}
	return r
}

func (p *Parser) noResultReason(exitCode int, stderr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "agent ended without a result (exit code %d", exitCode)
	if p.res.Lines == 0 {
		b.WriteString(", no output")
	}
	if p.skipped > 0 {
		fmt.Fprintf(&b, ", %d over-long line(s) skipped", p.skipped)
	}
	b.WriteString(")")
	if p.readErr != nil {
		fmt.Fprintf(&b, ": read: %v", p.readErr)
	}
	if p.lastError != "" {
		fmt.Fprintf(&b, ": %s", p.lastError)
	} else if last := lastLine(stderr); last != "" {
		fmt.Fprintf(&b, ": %s", last)
	}
	return b.String()
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\r\n\t ")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

func cloneMap(m map[string]int) map[string]int {
	if m == nil {
		return nil
	}
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// decode unmarshals line into v. A field of an unexpected type is left zero
// rather than losing the whole event, since CLIs change field types between
// versions; only malformed JSON is refused.
func decode(line []byte, v any) bool {
	err := json.Unmarshal(line, v)
	var typeErr *json.UnmarshalTypeError
	return err == nil || errors.As(err, &typeErr)
}

// textOf renders a JSON value that may be a string, an object with a
// "message", or anything else, as a human-readable message.
func textOf(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Message != "" {
		return obj.Message
	}
	return string(raw)
}

// present reports whether raw holds a value other than null.
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// gemini is Gemini CLI: `gemini -p PROMPT -o stream-json`.
type gemini struct{}

func (gemini) Name() string { return "gemini" }

func (gemini) Setup() Setup {
	return Setup{
		CredentialEnv: "GEMINI_API_KEY",
		BaseURLEnv:    "GOOGLE_GEMINI_BASE_URL",
		HomeFiles: map[string]string{
			// Without selectedType the CLI rejects an API key behind a base
			// URL ("Invalid auth method selected.", exit 41); usage statistics
			// would call play.googleapis.com.
			".gemini/settings.json": `{"security":{"auth":{"selectedType":"gemini-api-key"}},"privacy":{"usageStatisticsEnabled":false}}`,
		},
		Hosts: []string{"generativelanguage.googleapis.com"},
	}
}

func (gemini) Command(req Request) ([]string, error) {
	if err := checkRequest(req); err != nil {
		return nil, fmt.Errorf("gemini: %w", err)
	}
	if err := unsupported("gemini", map[string]bool{
		"max turns": req.MaxTurns > 0,
		"allowed tools (runs --approval-mode yolo)": len(req.AllowedTools) > 0,
		"permission mode": req.PermissionMode != "",
	}); err != nil {
		return nil, err
	}
	prompt, err := geminiSchemaPrompt(req)
	if err != nil {
		return nil, err
	}
	argv := []string{"gemini", "-o", "stream-json", "--approval-mode", "yolo"}
	if req.Model != "" {
		argv = append(argv, "-m", req.Model)
	}
	argv = append(argv, req.Args...)
	if strings.HasPrefix(prompt, "-") {
		// The option parser would take "-p -x" as two flags.
		return append(argv, "-p="+prompt), nil
	}
	return append(argv, "-p", prompt), nil
}

// geminiSchemaPrompt asks for structured output in the prompt: Gemini CLI
// has no schema flag, so the answer is requested as a final fenced JSON
// block, which the caller extracts from the final message and validates.
func geminiSchemaPrompt(req Request) (string, error) {
	switch {
	case len(req.Schema) > 0:
		var b bytes.Buffer
		if err := json.Compact(&b, req.Schema); err != nil {
			return "", fmt.Errorf("gemini: schema: %w", err)
		}
		return req.Prompt + "\n\nEnd your answer with exactly one fenced code block, opened with ```json, holding your answer as one JSON object that follows this JSON schema:\n" + b.String(), nil
	case req.SchemaPath != "":
		return req.Prompt + "\n\nEnd your answer with exactly one fenced code block, opened with ```json, holding your answer as one JSON object that follows the JSON schema in " + req.SchemaPath + ".", nil
	}
	return req.Prompt, nil
}

func (gemini) NewParser(emit func(Event)) *Parser {
	return newParser("gemini", &geminiDecoder{}, emit)
}

type geminiLine struct {
	Type       string          `json:"type"`
	SessionID  string          `json:"session_id"`
	Model      string          `json:"model"`
	Role       string          `json:"role"`
	Content    string          `json:"content"`
	Delta      bool            `json:"delta"`
	ToolName   string          `json:"tool_name"`
	ToolID     string          `json:"tool_id"`
	Parameters json.RawMessage `json:"parameters"`
	Status     string          `json:"status"`
	Output     *string         `json:"output"`
	Error      json.RawMessage `json:"error"`
	Severity   string          `json:"severity"`
	Message    string          `json:"message"`
	Stats      *struct {
		InputTokens  int64 `json:"input_tokens"`
		OutputTokens int64 `json:"output_tokens"`
		Cached       int64 `json:"cached"`
		DurationMS   int64 `json:"duration_ms"`
	} `json:"stats"`
}

// deprecationNotice starts a warning some CLI versions print as if it were
// the assistant's answer.
const deprecationNotice = "The --prompt (-p) flag has been deprecated"

// geminiDecoder reads stream-json. The answer is the assistant text after
// the last tool activity: earlier text is narration, and a CLI notice can
// arrive as an assistant delta. Deltas are gathered into one message event,
// sent when the reply ends, since a fragment cut mid-word means nothing alone.
type geminiDecoder struct {
	answer   strings.Builder
	inReply  bool // assistant text so far continues the answer
	sent     int  // how much of answer was emitted
	lastLine int  // the line of the answer's last delta
	// line is reused to spare an allocation per line; it is zeroed first, so
	// no slice is shared with an emitted event.
	line geminiLine
}

func (d *geminiDecoder) object(p *Parser, line []byte) bool {
	d.line = geminiLine{}
	l := &d.line
	if !decode(line, l) {
		return false
	}
	if l.Type != "message" {
		d.end(p)
	}
	switch l.Type {
	case "init":
		p.setSession(l.SessionID, l.Model)
		p.send(Event{Kind: KindInit, AgentType: l.Type, SessionID: l.SessionID, Model: l.Model})
	case "message":
		d.message(p, l)
		return true
	case "tool_use":
		d.inReply = false
		p.toolCall(Event{AgentType: l.Type, Tool: l.ToolName, ToolID: l.ToolID, Input: l.Parameters})
	case "tool_result":
		d.inReply = false
		e := Event{Kind: KindToolResult, AgentType: l.Type, ToolID: l.ToolID, Code: l.Status, IsError: l.Status == "error"}
		if l.Output != nil {
			e.Text = *l.Output
		}
		if present(l.Error) {
			e.Text = textOf(l.Error)
		}
		p.send(e)
	case "error":
		p.reportError(l.Type, l.Severity, l.Message)
	case "result":
		d.result(p, l)
	default:
		p.unknown(l.Type, line)
	}
	return true
}

func (d *geminiDecoder) message(p *Parser, l *geminiLine) {
	if l.Role != "assistant" || strings.HasPrefix(l.Content, deprecationNotice) {
		p.notice("message/"+l.Role, l.Content)
		return
	}
	if !d.inReply || !l.Delta {
		d.end(p)
		p.res.Messages++
		d.answer.Reset()
		d.sent = 0
	}
	d.inReply, d.lastLine = true, p.res.Lines
	d.answer.WriteString(l.Content)
}

// end sends the part of the answer not yet sent, if any.
func (d *geminiDecoder) end(p *Parser) {
	if d.answer.Len() > d.sent {
		p.send(Event{Kind: KindMessage, Line: d.lastLine, AgentType: "message/assistant", Text: d.answer.String()[d.sent:]})
		d.sent = d.answer.Len()
	}
}

func (d *geminiDecoder) result(p *Parser, l *geminiLine) {
	p.final = true
	r := &p.res
	r.Text = d.answer.String()
	r.Success = l.Status == "success"
	r.ErrorKind, r.ErrorMessage = "", ""
	if l.Stats != nil {
		s := l.Stats
		r.Usage = Usage{Input: s.InputTokens - s.Cached, Output: s.OutputTokens, CacheRead: s.Cached}
		r.Duration = time.Duration(s.DurationMS) * time.Millisecond
	}
	if !r.Success {
		// The error object is optional; the last error event may say more.
		var e struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(l.Error, &e)
		if e.Type == "" {
			e.Type = ErrAgent
		}
		if e.Message == "" && present(l.Error) {
			e.Message = textOf(l.Error)
		}
		if e.Message == "" {
			e.Message = p.lastError
		}
		if e.Message == "" {
			e.Message = fmt.Sprintf("gemini reported status %q without details", l.Status)
		}
		r.fail(e.Type, e.Message)
		p.reportError("result", e.Type, e.Message)
	}
	u := r.Usage
	p.send(Event{Kind: KindUsage, AgentType: l.Type, Usage: &u})
}

func (d *geminiDecoder) finish(r *Result) {
	if r.Text == "" {
		r.Text = d.answer.String()
	}
	r.Turns = r.Messages
}

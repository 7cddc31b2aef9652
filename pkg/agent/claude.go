package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// claude is Claude Code: `claude -p --output-format stream-json --verbose`.
type claude struct{}

func (claude) Name() string { return "claude" }

func (claude) Setup() Setup {
	return Setup{
		CredentialEnv: "ANTHROPIC_API_KEY",
		BaseURLEnv:    "ANTHROPIC_BASE_URL",
		Env:           []string{"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1"},
		Hosts:         []string{"api.anthropic.com"},
	}
}

func (claude) Command(req Request) ([]string, error) {
	if err := checkRequest(req); err != nil {
		return nil, fmt.Errorf("claude: %w", err)
	}
	if req.SchemaPath != "" && len(req.Schema) == 0 {
		return nil, fmt.Errorf("claude: takes the schema inline: set Request.Schema, not only SchemaPath")
	}
	argv := []string{"claude", "-p", "--output-format", "stream-json", "--verbose"}
	if req.Model != "" {
		argv = append(argv, "--model", req.Model)
	}
	if req.MaxTurns > 0 {
		argv = append(argv, "--max-turns", strconv.Itoa(req.MaxTurns))
	}
	if len(req.Schema) > 0 {
		var b bytes.Buffer
		if err := json.Compact(&b, req.Schema); err != nil {
			return nil, fmt.Errorf("claude: schema: %w", err)
		}
		argv = append(argv, "--json-schema", b.String())
	}
	if len(req.AllowedTools) > 0 {
		argv = append(argv, "--allowedTools", strings.Join(req.AllowedTools, ","))
	}
	if req.PermissionMode != "" {
		argv = append(argv, "--permission-mode", req.PermissionMode)
	}
	argv = append(argv, req.Args...)
	// --allowedTools takes several values; "--" stops it swallowing the prompt.
	return append(argv, "--", req.Prompt), nil
}

func (claude) NewParser(emit func(Event)) *Parser {
	return newParser("claude", &claudeDecoder{}, emit)
}

type claudeLine struct {
	Type      string          `json:"type"`
	Subtype   string          `json:"subtype"`
	SessionID string          `json:"session_id"`
	Model     string          `json:"model"`
	Message   claudeMessage   `json:"message"`
	Error     json.RawMessage `json:"error"`
	// Result lines.
	IsError           bool            `json:"is_error"`
	Result            *string         `json:"result"`
	StructuredOutput  json.RawMessage `json:"structured_output"`
	TotalCostUSD      float64         `json:"total_cost_usd"`
	NumTurns          int             `json:"num_turns"`
	DurationMS        int64           `json:"duration_ms"`
	Usage             *claudeUsage    `json:"usage"`
	Errors            json.RawMessage `json:"errors"`
	TerminalReason    string          `json:"terminal_reason"`
	APIErrorStatus    json.RawMessage `json:"api_error_status"`
	PermissionDenials []struct {
		ToolName  string          `json:"tool_name"`
		ToolUseID string          `json:"tool_use_id"`
		ToolInput json.RawMessage `json:"tool_input"`
	} `json:"permission_denials"`
	RateLimitInfo struct {
		Status string `json:"status"`
	} `json:"rate_limit_info"`
}

type claudeMessage struct {
	ID      string        `json:"id"`
	Model   string        `json:"model"`
	Content claudeContent `json:"content"`
	Usage   *claudeUsage  `json:"usage"`
}

// claudeContent is a message's content: a plain string or a list of blocks.
type claudeContent struct {
	Text   string
	Blocks []claudeBlock
}

func (c *claudeContent) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &c.Text)
	case len(b) > 0 && b[0] == '[':
		return json.Unmarshal(b, &c.Blocks)
	}
	return nil
}

type claudeBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	Thinking  string          `json:"thinking"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   claudeContent   `json:"content"`
	IsError   bool            `json:"is_error"`
}

type claudeUsage struct {
	Input      int64 `json:"input_tokens"`
	Output     int64 `json:"output_tokens"`
	CacheRead  int64 `json:"cache_read_input_tokens"`
	CacheWrite int64 `json:"cache_creation_input_tokens"`
}

func (u claudeUsage) usage() Usage {
	return Usage{Input: u.Input, Output: u.Output, CacheRead: u.CacheRead, CacheWrite: u.CacheWrite}
}

// claudeDecoder reads stream-json. Claude splits one API message over several
// lines (one per content block) that share message.id, each repeating the
// message's usage; so messages are counted, and usage summed, per id.
type claudeDecoder struct {
	recent    [8]string // recent message ids, to count a split message once
	next      int
	msgText   strings.Builder // text of the latest message: the answer when no result line comes
	msgUsage  Usage
	pastUsage Usage  // summed over finished messages, for results without usage
	errKind   string // Claude's own error word from a synthetic assistant message
	// line is reused to spare an allocation per line; it is zeroed first, so
	// no slice is shared with an emitted event.
	line claudeLine
}

func (d *claudeDecoder) object(p *Parser, line []byte) bool {
	d.line = claudeLine{}
	l := &d.line
	if !decode(line, l) {
		return false
	}
	switch l.Type {
	case "system":
		if l.Subtype == "init" {
			p.setSession(l.SessionID, l.Model)
			p.send(Event{Kind: KindInit, AgentType: "system/init", SessionID: l.SessionID, Model: l.Model})
			return true
		}
		p.notice("system/"+l.Subtype, "")
	case "assistant":
		d.assistant(p, l)
	case "user":
		d.user(p, l)
	case "result":
		d.result(p, l)
	case "rate_limit_event":
		p.notice(l.Type, l.RateLimitInfo.Status)
	case "stream_event":
		p.notice(l.Type, "")
	default:
		p.unknown(l.Type, line)
	}
	return true
}

func (d *claudeDecoder) seen(id string) bool {
	for _, r := range d.recent {
		if r == id {
			return true
		}
	}
	d.recent[d.next] = id
	d.next = (d.next + 1) % len(d.recent)
	return false
}

func (d *claudeDecoder) assistant(p *Parser, l *claudeLine) {
	m := &l.Message
	if m.ID == "" || !d.seen(m.ID) {
		p.res.Messages++
		d.pastUsage.add(d.msgUsage)
		d.msgUsage = Usage{}
		d.msgText.Reset()
	}
	if m.Usage != nil {
		d.msgUsage = m.Usage.usage() // repeated on every line of the message
	}
	if p.res.SessionID == "" {
		p.setSession(l.SessionID, "")
	}
	for _, b := range m.Content.Blocks {
		switch b.Type {
		case "text":
			d.msgText.WriteString(b.Text)
			p.send(Event{Kind: KindMessage, AgentType: "assistant/text", MessageID: m.ID, Model: m.Model, Text: b.Text})
		case "thinking":
			if b.Thinking != "" {
				p.send(Event{Kind: KindReasoning, AgentType: "assistant/thinking", MessageID: m.ID, Text: b.Thinking})
			}
		case "tool_use", "server_tool_use":
			p.toolCall(Event{AgentType: "assistant/" + b.Type, MessageID: m.ID, Tool: b.Name, ToolID: b.ID, Input: b.Input})
		}
	}
	// A synthetic message carries Claude's own error word, e.g.
	// "authentication_failed"; its text is the explanation.
	if present(l.Error) {
		d.errKind = textOf(l.Error)
		p.reportError("assistant/error", d.errKind, d.msgText.String())
	}
}

func (d *claudeDecoder) user(p *Parser, l *claudeLine) {
	if l.Message.Content.Text != "" {
		p.notice("user", l.Message.Content.Text)
		return
	}
	for _, b := range l.Message.Content.Blocks {
		if b.Type != "tool_result" {
			continue
		}
		text := b.Content.Text
		if text == "" {
			var parts []string
			for _, c := range b.Content.Blocks {
				if c.Type == "text" {
					parts = append(parts, c.Text)
				}
			}
			text = strings.Join(parts, "\n")
		}
		p.send(Event{Kind: KindToolResult, AgentType: "user/tool_result", ToolID: b.ToolUseID, Text: text, IsError: b.IsError})
	}
}

// result settles the run. Later result lines replace earlier ones: the cost is
// a running total, and a second turn's outcome is the final one.
func (d *claudeDecoder) result(p *Parser, l *claudeLine) {
	p.final = true
	r := &p.res
	p.setSession(l.SessionID, "")
	r.Success = !l.IsError && !strings.HasPrefix(l.Subtype, "error")
	r.ErrorKind, r.ErrorMessage = "", ""
	r.Text = d.msgText.String()
	if l.Result != nil {
		r.Text = *l.Result
	}
	r.StructuredOutput = nil
	if present(l.StructuredOutput) {
		r.StructuredOutput = l.StructuredOutput
	}
	r.CostUSD = l.TotalCostUSD
	r.Turns = l.NumTurns
	r.Duration = time.Duration(l.DurationMS) * time.Millisecond
	r.Usage = d.pastUsage
	r.Usage.add(d.msgUsage)
	if l.Usage != nil {
		r.Usage = l.Usage.usage()
	}
	r.PermissionDenials = nil
	for _, pd := range l.PermissionDenials {
		r.PermissionDenials = append(r.PermissionDenials, PermissionDenial{Tool: pd.ToolName, ToolID: pd.ToolUseID, Input: pd.ToolInput})
	}
	if !r.Success {
		kind, msg := d.failure(l)
		r.fail(kind, msg)
		p.reportError("result/"+l.Subtype, kind, msg)
	}
	u := r.Usage
	p.send(Event{Kind: KindUsage, AgentType: "result", SessionID: r.SessionID, Usage: &u, CostUSD: r.CostUSD})
}

// failure explains a failed result. is_error wins over a "success" subtype,
// and a max-turns result has no "result" text: the reason is in "errors" or
// the subtype.
func (d *claudeDecoder) failure(l *claudeLine) (kind, msg string) {
	switch {
	case l.Subtype == "error_max_turns" || l.TerminalReason == "max_turns":
		kind = ErrMaxTurns
	case strings.HasPrefix(l.Subtype, "error_"):
		kind = strings.TrimPrefix(l.Subtype, "error_")
	case d.errKind != "":
		kind = d.errKind
	case present(l.APIErrorStatus):
		kind = "api_error_" + strings.Trim(string(l.APIErrorStatus), `"`)
	default:
		kind = ErrAgent
	}
	var errs []json.RawMessage
	if json.Unmarshal(l.Errors, &errs) == nil {
		var parts []string
		for _, e := range errs {
			if s := textOf(e); s != "" {
				parts = append(parts, s)
			}
		}
		msg = strings.Join(parts, "; ")
	}
	switch {
	case msg != "":
	case l.Result != nil && *l.Result != "":
		msg = *l.Result
	case kind == ErrMaxTurns:
		msg = fmt.Sprintf("stopped at the turn limit after %d turns", l.NumTurns)
	default:
		msg = fmt.Sprintf("claude reported an error (subtype %q, terminal reason %q)", l.Subtype, l.TerminalReason)
	}
	return kind, msg
}

func (d *claudeDecoder) end(*Parser) {}

func (d *claudeDecoder) finish(r *Result) {
	if r.Turns == 0 {
		r.Turns = r.Messages
	}
	if r.Text == "" {
		r.Text = d.msgText.String()
	}
	if r.Usage == (Usage{}) {
		r.Usage = d.pastUsage
		r.Usage.add(d.msgUsage)
	}
}

package agent

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// codex is OpenAI Codex: `codex exec --json`.
type codex struct{}

func (codex) Name() string { return "codex" }

func (codex) Setup() Setup {
	return Setup{
		CredentialEnv: "CODEX_API_KEY",
		Hosts:         []string{"api.openai.com"},
	}
}

func (codex) Command(req Request) ([]string, error) {
	if err := checkRequest(req); err != nil {
		return nil, fmt.Errorf("codex: %w", err)
	}
	if err := unsupported("codex", map[string]bool{
		"max turns":       req.MaxTurns > 0,
		"allowed tools":   len(req.AllowedTools) > 0,
		"permission mode": req.PermissionMode != "",
	}); err != nil {
		return nil, err
	}
	if len(req.Schema) > 0 && req.SchemaPath == "" {
		return nil, fmt.Errorf("codex: reads the schema from a file: set Request.SchemaPath to where Schema is in the sandbox")
	}
	argv := []string{"codex", "exec", "--json", "--skip-git-repo-check", "--sandbox", "workspace-write", "--ephemeral",
		// Without these, codex also calls chatgpt.com and github.com.
		"-c", "analytics.enabled=false", "-c", "features.plugins=false"}
	if req.BaseURL != "" {
		// OPENAI_BASE_URL is no longer read: a custom provider is the only way.
		provider := fmt.Sprintf("model_providers.gw={base_url='%s/v1',wire_api='responses',env_key='CODEX_API_KEY',supports_websockets=false}",
			strings.TrimRight(req.BaseURL, "/"))
		argv = append(argv, "-c", provider, "-c", "model_provider=gw")
	}
	if req.Model != "" {
		argv = append(argv, "--model", req.Model)
	}
	if req.SchemaPath != "" {
		argv = append(argv, "--output-schema", req.SchemaPath)
	}
	argv = append(argv, req.Args...)
	// "--" keeps a prompt such as "resume …" from being read as a subcommand.
	return append(argv, "--", req.Prompt), nil
}

func (codex) NewParser(emit func(Event)) *Parser {
	return newParser("codex", &codexDecoder{pending: map[string]bool{}}, emit)
}

type codexLine struct {
	Type     string `json:"type"`
	ThreadID string `json:"thread_id"`
	Message  string `json:"message"`
	Error    struct {
		Message string `json:"message"`
	} `json:"error"`
	Usage *codexUsage `json:"usage"`
	Item  *codexItem  `json:"item"`
}

type codexItem struct {
	ID               string          `json:"id"`
	Type             string          `json:"type"`
	Text             string          `json:"text"`
	Message          string          `json:"message"`
	Command          string          `json:"command"`
	AggregatedOutput string          `json:"aggregated_output"`
	ExitCode         *int            `json:"exit_code"`
	Status           string          `json:"status"`
	Changes          json.RawMessage `json:"changes"`
	Server           string          `json:"server"`
	Tool             string          `json:"tool"`
	Arguments        json.RawMessage `json:"arguments"`
	Result           json.RawMessage `json:"result"`
	Error            json.RawMessage `json:"error"`
	Query            string          `json:"query"`
}

type codexUsage struct {
	Input      int64 `json:"input_tokens"`
	Cached     int64 `json:"cached_input_tokens"`
	CacheWrite int64 `json:"cache_write_input_tokens"`
	Output     int64 `json:"output_tokens"`
	Reasoning  int64 `json:"reasoning_output_tokens"`
}

// maxPending bounds the tool items remembered between item.started and
// item.completed.
const maxPending = 4096

// codexDecoder reads `codex exec --json`. Only turn.failed is fatal: "error"
// items and top-level errors are warnings the agent recovers from.
type codexDecoder struct {
	pending  map[string]bool // tool items started and not yet completed
	lastText string
	// line and itemBuf are reused from line to line to spare allocations; both
	// are zeroed first, so no slice is shared with an emitted event.
	line    codexLine
	itemBuf codexItem
}

func (d *codexDecoder) object(p *Parser, line []byte) bool {
	d.itemBuf = codexItem{}
	d.line = codexLine{Item: &d.itemBuf}
	l := &d.line
	if !decode(line, l) {
		return false
	}
	switch l.Type {
	case "thread.started":
		p.setSession(l.ThreadID, "")
		p.send(Event{Kind: KindInit, AgentType: l.Type, SessionID: l.ThreadID})
	case "turn.started":
		p.res.Turns++
		p.notice(l.Type, "")
	case "turn.completed":
		p.final = true
		p.res.Success, p.res.ErrorKind, p.res.ErrorMessage = true, "", ""
		if l.Usage != nil {
			// Reported as the thread's total so far, not the turn's share.
			u := l.Usage
			p.res.Usage = Usage{Input: u.Input - u.Cached, Output: u.Output, CacheRead: u.Cached, CacheWrite: u.CacheWrite, Reasoning: u.Reasoning}
		}
		usage := p.res.Usage
		p.send(Event{Kind: KindUsage, AgentType: l.Type, Usage: &usage})
	case "turn.failed":
		p.final = true
		kind, msg := codexFailure(l.Error.Message)
		p.res.Success, p.res.ErrorKind, p.res.ErrorMessage = false, kind, msg
		p.reportError(l.Type, kind, msg)
	case "error":
		kind, msg := codexFailure(l.Message)
		if kind == ErrTurnFailed {
			kind = ""
		}
		p.reportError(l.Type, kind, msg)
	case "item.started", "item.updated", "item.completed":
		if l.Item == nil || l.Item.Type == "" {
			p.unknown(l.Type, line)
			return true
		}
		d.item(p, l.Type, l.Item, line)
	default:
		p.unknown(l.Type, line)
	}
	return true
}

func (d *codexDecoder) item(p *Parser, phase string, it *codexItem, line []byte) {
	agentType := phase + "/" + it.Type
	done := phase == "item.completed"
	switch it.Type {
	case "agent_message":
		if done {
			p.res.Messages++
			d.lastText = it.Text
			p.send(Event{Kind: KindMessage, AgentType: agentType, MessageID: it.ID, Text: it.Text})
		}
	case "reasoning":
		if done {
			p.send(Event{Kind: KindReasoning, AgentType: agentType, Text: it.Text})
		}
	case "error":
		p.reportError(agentType, "", it.Message)
	case "todo_list":
		p.notice(agentType, "")
	case "command_execution", "file_change", "mcp_tool_call", "web_search":
		d.tool(p, phase, agentType, it)
	default:
		p.unknown(agentType, line)
	}
}

// tool turns an item's lifecycle into one call and, on completion, one
// result. An item seen only completed still counts as a call.
func (d *codexDecoder) tool(p *Parser, phase, agentType string, it *codexItem) {
	if !d.pending[it.ID] {
		if phase != "item.completed" && len(d.pending) < maxPending {
			d.pending[it.ID] = true
		}
		name, input := codexToolInput(it)
		p.toolCall(Event{AgentType: agentType, Tool: name, ToolID: it.ID, Input: input})
	}
	if phase != "item.completed" {
		return
	}
	delete(d.pending, it.ID)
	e := Event{Kind: KindToolResult, AgentType: agentType, ToolID: it.ID, Code: it.Status, IsError: it.Status == "failed"}
	switch it.Type {
	case "command_execution":
		e.Text = it.AggregatedOutput
		if it.ExitCode != nil {
			e.Code = strconv.Itoa(*it.ExitCode)
			e.IsError = e.IsError || *it.ExitCode != 0
		}
	case "mcp_tool_call":
		e.Text = textOf(it.Result)
		if present(it.Error) {
			e.Text, e.IsError = textOf(it.Error), true
		}
	}
	p.send(e)
}

func codexToolInput(it *codexItem) (string, json.RawMessage) {
	var v any
	switch it.Type {
	case "command_execution":
		v = struct {
			Command string `json:"command"`
		}{it.Command}
	case "web_search":
		v = struct {
			Query string `json:"query"`
		}{it.Query}
	case "file_change":
		return it.Type, it.Changes
	case "mcp_tool_call":
		return it.Server + "." + it.Tool, it.Arguments
	}
	b, _ := json.Marshal(v)
	return it.Type, b
}

// codexFailure reads turn.failed's message, which is often the API's JSON
// error body as a string.
func codexFailure(msg string) (kind, text string) {
	var body struct {
		Status int `json:"status"`
		Error  struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(msg), &body) == nil && body.Error.Message != "" {
		kind = body.Error.Type
		if kind == "" {
			kind = ErrTurnFailed
		}
		text = body.Error.Message
		if body.Status != 0 {
			text = fmt.Sprintf("%s (HTTP %d)", text, body.Status)
		}
		return kind, text
	}
	if msg == "" {
		msg = "codex reported an error without a message"
	}
	return ErrTurnFailed, msg
}

func (d *codexDecoder) end(*Parser) {}

func (d *codexDecoder) finish(r *Result) {
	r.Text = d.lastText
	// With --output-schema the final message is the structured output.
	if t := strings.TrimSpace(d.lastText); r.Success && len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid([]byte(t)) {
		r.StructuredOutput = json.RawMessage(t)
	}
}

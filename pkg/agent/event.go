package agent

import "encoding/json"

// Kind says what an Event is, whichever CLI printed it.
type Kind string

// Event kinds.
const (
	// KindInit starts a session: SessionID and Model.
	KindInit Kind = "init"
	// KindMessage is assistant text: Text, and MessageID where the CLI has one.
	KindMessage Kind = "message"
	// KindReasoning is the agent's visible thinking.
	KindReasoning Kind = "reasoning"
	// KindToolCall is the agent invoking a tool: Tool, ToolID, Input.
	KindToolCall Kind = "tool_call"
	// KindToolResult is a tool's answer: ToolID, Text, IsError, Code.
	KindToolResult Kind = "tool_result"
	// KindUsage reports tokens (and cost, where the CLI prices the run).
	KindUsage Kind = "usage"
	// KindError is an error the agent reported (Text, Code) or a line the
	// parser could not take (Code "line_too_long"). Not necessarily fatal:
	// only the Result says whether the run failed.
	KindError Kind = "error"
	// KindNotice is a known event with nothing to normalise: rate limits,
	// plan updates, turn markers, echoed prompts.
	KindNotice Kind = "notice"
	// KindUnknown is a JSON event of a type this parser does not know; Raw
	// keeps it whole.
	KindUnknown Kind = "unknown"
	// KindText is a line that is not JSON (a banner or warning): Text.
	KindText Kind = "text"
)

// Event is one normalised event. Its JSON form is stable: it is what
// `sandbox events` and `sandbox run --json` print.
type Event struct {
	Kind Kind `json:"type"`
	// Line is the 1-based line of the stream the event came from.
	Line int `json:"line"`
	// AgentType is the CLI's own name for the event, e.g. "item.completed/
	// command_execution", kept for debugging.
	AgentType string          `json:"agent_type,omitempty"`
	SessionID string          `json:"session_id,omitempty"`
	Model     string          `json:"model,omitempty"`
	MessageID string          `json:"message_id,omitempty"`
	Text      string          `json:"text,omitempty"`
	Tool      string          `json:"tool,omitempty"`
	ToolID    string          `json:"tool_id,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
	// Code is an error's kind, or a tool result's status or exit code.
	Code    string          `json:"code,omitempty"`
	Usage   *Usage          `json:"usage,omitempty"`
	CostUSD float64         `json:"cost_usd,omitempty"`
	Raw     json.RawMessage `json:"raw,omitempty"`
}

// Usage counts tokens. Cache reads are not part of Input.
type Usage struct {
	Input      int64 `json:"input_tokens"`
	Output     int64 `json:"output_tokens"`
	CacheRead  int64 `json:"cache_read_tokens"`
	CacheWrite int64 `json:"cache_write_tokens"`
	Reasoning  int64 `json:"reasoning_tokens,omitempty"`
}

func (u *Usage) add(v Usage) {
	u.Input += v.Input
	u.Output += v.Output
	u.CacheRead += v.CacheRead
	u.CacheWrite += v.CacheWrite
	u.Reasoning += v.Reasoning
}

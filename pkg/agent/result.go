package agent

import (
	"encoding/json"
	"time"
)

// Error kinds the parsers set themselves. Otherwise ErrorKind is the agent's
// own word for the failure (e.g. Claude's "authentication_failed", an API
// error type).
const (
	// ErrNoResult: the stream ended without the CLI's final result.
	ErrNoResult = "no_result"
	// ErrMaxTurns: the agent stopped at its turn limit.
	ErrMaxTurns = "max_turns"
	// ErrAgent: the CLI flagged the run as failed without saying why.
	ErrAgent = "agent_error"
	// ErrTurnFailed: Codex's turn.failed.
	ErrTurnFailed = "turn_failed"
	// ErrExitCode: the result said success but the process exited non-zero.
	ErrExitCode = "exit_code"
	// ErrRead: the stream could not be read to its end.
	ErrRead = "read_error"
)

// Result is what a run came to, read from the agent's own stream and the
// process's exit.
type Result struct {
	Agent   string `json:"agent"`
	Success bool   `json:"success"`
	// Text is the agent's final answer.
	Text string `json:"text"`
	// StructuredOutput is the JSON the agent produced for a schema; nil when
	// it produced none.
	StructuredOutput json.RawMessage `json:"structured_output"`
	// CostUSD is the CLI's own price of the run; zero when it reports none
	// (Codex, Gemini).
	CostUSD   float64 `json:"cost_usd"`
	SessionID string  `json:"session_id"`
	// ErrorKind and ErrorMessage say why the run failed; empty on success.
	ErrorKind    string        `json:"error_kind,omitempty"`
	ErrorMessage string        `json:"-"`
	ExitCode     int           `json:"exit_code"`
	Model        string        `json:"model,omitempty"`
	Usage        Usage         `json:"usage"`
	Turns        int           `json:"turns"`
	Duration     time.Duration `json:"-"`
	// Messages counts assistant messages; a message split over several
	// lines counts once.
	Messages          int                `json:"messages"`
	ToolCalls         int                `json:"tool_calls"`
	PermissionDenials []PermissionDenial `json:"permission_denials,omitempty"`
	// Unknown counts events of unknown types; UnknownTypes breaks it down.
	Unknown      int            `json:"unknown_events"`
	UnknownTypes map[string]int `json:"unknown_types,omitempty"`
	// Lines counts the lines read, JSON or not.
	Lines int `json:"lines"`
	// StderrTail is the end of the process's standard error.
	StderrTail string `json:"stderr_tail,omitempty"`
	// Outcome is how the whole run ended (success, failed, timed_out,
	// cancelled, out_of_memory, not_started), set by the front door that
	// ran it; the stream alone cannot tell a timeout from a crash.
	Outcome string `json:"-"`
}

// PermissionDenial is a tool call the agent was refused.
type PermissionDenial struct {
	Tool   string          `json:"tool"`
	ToolID string          `json:"tool_id,omitempty"`
	Input  json.RawMessage `json:"input,omitempty"`
}

// MarshalJSON gives the result the shape of a final event line:
// {"type":"result","success":…,"text":…,"structured_output":…,"cost_usd":…,
// "session_id":…,"error":…, then the details}, with error null on success.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	var errMsg *string
	if r.ErrorMessage != "" || !r.Success {
		errMsg = &r.ErrorMessage
	}
	// The leading fields shadow their copies in plain, which fixes the order.
	return json.Marshal(struct {
		Type             string          `json:"type"`
		Outcome          string          `json:"outcome,omitempty"`
		Success          bool            `json:"success"`
		Text             string          `json:"text"`
		StructuredOutput json.RawMessage `json:"structured_output"`
		CostUSD          float64         `json:"cost_usd"`
		SessionID        string          `json:"session_id"`
		Error            *string         `json:"error"`
		plain
		DurationMS int64 `json:"duration_ms"`
	}{"result", r.Outcome, r.Success, r.Text, r.StructuredOutput, r.CostUSD, r.SessionID, errMsg, plain(r), r.Duration.Milliseconds()})
}

package review

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/org/sandbox-action/pkg/agent"
)

// ReadTranscript reads a recorded agent run (the JSONL stream the CLI
// printed) into its Result, with the agent's own parser. An empty agentName
// is detected from the stream (DetectAgent). The recorded run is taken to
// have exited 0: the transcript is all there is.
func ReadTranscript(agentName string, transcript []byte) (agent.Result, error) {
	if agentName == "" {
		name, err := DetectAgent(transcript)
		if err != nil {
			return agent.Result{}, err
		}
		agentName = name
	}
	a, err := agent.Get(agentName)
	if err != nil {
		return agent.Result{}, err
	}
	p := a.NewParser(nil)
	if err := p.Parse(bytes.NewReader(transcript)); err != nil {
		return agent.Result{}, fmt.Errorf("read %s transcript: %w", agentName, err)
	}
	return p.Finish(0, nil), nil
}

// DetectAgent names the CLI that printed transcript from the event types of
// its first lines: Claude's system/assistant/result, Codex's thread.* /
// turn.* / item.*, Gemini's init/message with a timestamp.
func DetectAgent(transcript []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(transcript))
	sc.Buffer(make([]byte, 64<<10), agent.MaxLineBytes)
	for n := 0; sc.Scan() && n < 100; n++ {
		var l struct {
			Type      string          `json:"type"`
			SessionID string          `json:"session_id"`
			Timestamp string          `json:"timestamp"`
			Message   json.RawMessage `json:"message"`
		}
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &l) != nil {
			continue
		}
		switch {
		case strings.HasPrefix(l.Type, "thread.") || strings.HasPrefix(l.Type, "turn.") || strings.HasPrefix(l.Type, "item."):
			return "codex", nil
		case l.Type == "system" || l.Type == "assistant" || (l.Type == "result" && l.Timestamp == ""):
			return "claude", nil
		case (l.Type == "init" || l.Type == "message" || l.Type == "result") && l.Timestamp != "":
			return "gemini", nil
		}
	}
	return "", fmt.Errorf("cannot tell which agent printed the transcript: name it (claude, codex or gemini)")
}

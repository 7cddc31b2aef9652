package agent

import (
	"encoding/json"
	"testing"

	"gotest.tools/v3/assert"
)

func TestGet(t *testing.T) {
	assert.DeepEqual(t, Names(), []string{"claude", "codex", "command", "gemini"})
	for _, n := range Names() {
		a, err := Get(n)
		assert.NilError(t, err)
		assert.Equal(t, a.Name(), n)
	}
	_, err := Get("cursor")
	assert.Error(t, err, `unknown agent "cursor" (valid: claude, codex, command, gemini)`)
	_, err = Get("")
	assert.ErrorContains(t, err, `unknown agent ""`)
}

const schema = `{
  "type": "object",
  "properties": {"summary": {"type": "string"}}
}`

func TestCommand(t *testing.T) {
	tests := []struct {
		agent string
		req   Request
		want  []string
	}{
		{"claude", Request{Prompt: "Review this PR"},
			[]string{"claude", "-p", "--output-format", "stream-json", "--verbose", "--", "Review this PR"}},
		{"claude", Request{Prompt: "-x looks like a flag", Model: "claude-sonnet-4-6", MaxTurns: 30, Schema: json.RawMessage(schema),
			AllowedTools: []string{"Read", "Edit", "Bash(git diff:*)"}, PermissionMode: "acceptEdits", BaseURL: "http://gw:8080"},
			[]string{"claude", "-p", "--output-format", "stream-json", "--verbose", "--model", "claude-sonnet-4-6", "--max-turns", "30",
				"--json-schema", `{"type":"object","properties":{"summary":{"type":"string"}}}`,
				"--allowedTools", "Read,Edit,Bash(git diff:*)", "--permission-mode", "acceptEdits", "--", "-x looks like a flag"}},
		{"codex", Request{Prompt: "resume the work"},
			[]string{"codex", "exec", "--json", "--skip-git-repo-check", "--sandbox", "workspace-write", "--ephemeral",
				"-c", "analytics.enabled=false", "-c", "features.plugins=false", "--", "resume the work"}},
		{"codex", Request{Prompt: "Review", Model: "gpt-5.1-codex", Schema: json.RawMessage(schema), SchemaPath: "/tmp/schema.json",
			BaseURL: "http://gw:8080/", Args: []string{"-c", "model_reasoning_effort=high"}},
			[]string{"codex", "exec", "--json", "--skip-git-repo-check", "--sandbox", "workspace-write", "--ephemeral",
				"-c", "analytics.enabled=false", "-c", "features.plugins=false",
				"-c", "model_providers.gw={base_url='http://gw:8080/v1',wire_api='responses',env_key='CODEX_API_KEY',supports_websockets=false}",
				"-c", "model_provider=gw",
				"--model", "gpt-5.1-codex", "--output-schema", "/tmp/schema.json", "-c", "model_reasoning_effort=high", "--", "Review"}},
		{"gemini", Request{Prompt: "Review this PR", Model: "gemini-2.5-pro"},
			[]string{"gemini", "-o", "stream-json", "--approval-mode", "yolo", "-m", "gemini-2.5-pro", "-p", "Review this PR"}},
		{"gemini", Request{Prompt: "Review", Schema: json.RawMessage(schema), SchemaPath: "/context/schema.json"},
			[]string{"gemini", "-o", "stream-json", "--approval-mode", "yolo", "-p", "Review\n\nEnd your answer with exactly one fenced code block, " +
				"opened with ```json, holding your answer as one JSON object that follows this JSON schema:\n" +
				`{"type":"object","properties":{"summary":{"type":"string"}}}`}},
		{"gemini", Request{Prompt: "Review", SchemaPath: "/context/schema.json"},
			[]string{"gemini", "-o", "stream-json", "--approval-mode", "yolo", "-p", "Review\n\nEnd your answer with exactly one fenced code block, " +
				"opened with ```json, holding your answer as one JSON object that follows the JSON schema in /context/schema.json."}},
		{"gemini", Request{Prompt: "- a list item first"},
			[]string{"gemini", "-o", "stream-json", "--approval-mode", "yolo", "-p=- a list item first"}},
		{"command", Request{Args: []string{"/toolbox", "echo"}, Prompt: "hello"},
			[]string{"/toolbox", "echo", "hello"}},
		{"command", Request{Args: []string{"make", "test"}},
			[]string{"make", "test"}},
	}
	for _, tc := range tests {
		t.Run(tc.agent, func(t *testing.T) {
			a, err := Get(tc.agent)
			assert.NilError(t, err)
			got, err := a.Command(tc.req)
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestCommandRejects(t *testing.T) {
	tests := []struct {
		agent string
		req   Request
		want  string
	}{
		{"claude", Request{}, "claude: empty prompt"},
		{"codex", Request{Prompt: " \n"}, "codex: empty prompt"},
		{"claude", Request{Prompt: "p", MaxTurns: -1}, "claude: max turns -1 is negative"},
		{"claude", Request{Prompt: "p", Schema: json.RawMessage(`{"type":`)}, "claude: schema is not valid JSON"},
		{"claude", Request{Prompt: "p", Model: "--dangerously-skip-permissions"},
			`claude: model "--dangerously-skip-permissions": must not start with '-' or contain a newline, NUL or quote`},
		{"codex", Request{Prompt: "p", BaseURL: "http://gw/'}"},
			`codex: base URL "http://gw/'}": must not start with '-' or contain a newline, NUL or quote`},
		{"claude", Request{Prompt: "p", AllowedTools: []string{"Read,Bash"}},
			`claude: allowed tool "Read,Bash": must be non-empty with no comma or newline`},
		{"claude", Request{Prompt: "p", SchemaPath: "/tmp/s.json"}, "claude: takes the schema inline: set Request.Schema, not only SchemaPath"},
		{"codex", Request{Prompt: "p", Schema: json.RawMessage(schema)},
			"codex: reads the schema from a file: set Request.SchemaPath to where Schema is in the sandbox"},
		{"codex", Request{Prompt: "p", MaxTurns: 3, AllowedTools: []string{"Read"}},
			"codex has no option for allowed tools, max turns"},
		{"gemini", Request{Prompt: "p", MaxTurns: 3, PermissionMode: "plan"}, "gemini has no option for max turns, permission mode"},
		{"command", Request{Prompt: "p"}, "--agent command runs the program given after --, and none was given"},
		{"command", Request{Args: []string{"make"}, Model: "m"}, "command has no option for model"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			a, err := Get(tc.agent)
			assert.NilError(t, err)
			_, err = a.Command(tc.req)
			assert.Error(t, err, tc.want)
		})
	}
}

func TestSetup(t *testing.T) {
	tests := []struct {
		agent    string
		envNames []string
		hosts    []string
	}{
		{"claude", []string{"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"}, []string{"api.anthropic.com"}},
		{"codex", []string{"CODEX_API_KEY"}, []string{"api.openai.com"}},
		{"gemini", []string{"GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL"}, []string{"generativelanguage.googleapis.com"}},
		{"command", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.agent, func(t *testing.T) {
			a, _ := Get(tc.agent)
			s := a.Setup()
			assert.DeepEqual(t, s.EnvNames(), tc.envNames)
			assert.DeepEqual(t, s.Hosts, tc.hosts)
			for _, content := range s.HomeFiles {
				assert.Assert(t, json.Valid([]byte(content)))
			}
		})
	}
	g, _ := Get("gemini")
	var settings struct {
		Security struct {
			Auth struct {
				SelectedType string `json:"selectedType"`
			} `json:"auth"`
		} `json:"security"`
	}
	assert.NilError(t, json.Unmarshal([]byte(g.Setup().HomeFiles[".gemini/settings.json"]), &settings))
	assert.Equal(t, settings.Security.Auth.SelectedType, "gemini-api-key")
}

func TestCommandAdapterOutput(t *testing.T) {
	out := []byte("building...\nok  \tgithub.com/org/x\t0.1s\n")
	res, events := parseExit(t, "command", out, 0, nil)
	assert.Assert(t, res.Success)
	assert.Equal(t, res.Text, string(out))
	assert.Equal(t, count(events, KindText), 2)

	// JSON from a plain program is just text.
	res, events = parseExit(t, "command", []byte(`{"type":"result","is_error":false}`+"\n"), 2, []byte("FAIL\n"))
	assert.Assert(t, !res.Success)
	assert.Equal(t, res.ErrorKind, ErrExitCode)
	assert.Equal(t, res.ErrorMessage, "exited with code 2")
	assert.Equal(t, res.StderrTail, "FAIL\n")
	assert.Equal(t, events[0].Kind, KindText)
}

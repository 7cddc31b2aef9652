package main

import (
	"context"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// Bad input is refused before anything runs, by `run` and `cmd` alike, with
// docker run's 125 and a message that names the flag.
func TestBadInputExits125FromRunAndCmd(t *testing.T) {
	ws := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"port out of range", []string{"--network", "private", "--allow", "api.example.com:99999"}, `--allow: invalid allow "api.example.com:99999": invalid port "99999"`},
		{"port zero", []string{"--network", "private", "--allow", "api.example.com:0"}, `--allow: invalid allow "api.example.com:0"`},
		{"empty type", []string{"--type", ""}, "--type: empty value: want one of"},
		{"empty network", []string{"--network", ""}, "--network: empty value: want private or public"},
		{"empty bundle", []string{"--bundle", ""}, "--bundle: empty value"},
		{"empty image", []string{"--image", ""}, "--image: empty value"},
		{"max turns without agent", []string{"--max-turns", "3"}, "--max-turns needs --agent"},
		{"model without agent", []string{"--model", "m"}, "--model needs --agent"},
		{"unknown flag", []string{"--no-such-flag"}, "unknown flag: --no-such-flag"},
	} {
		for _, sub := range []string{"run", "cmd"} {
			args := append([]string{sub, "--image", "sandbox-action-test/absent:1", "--workspace", ws, "--user", "1000:1000"}, tc.args...)
			code, out, errOut := cli(context.Background(), nil, append(args, "--", "x")...)
			assert.Check(t, is.Equal(code, exitSandboxError), "%s %s: %s", sub, tc.name, errOut)
			assert.Check(t, is.Contains(errOut, tc.want), "%s %s", sub, tc.name)
			assert.Check(t, is.Equal(out, ""), "%s %s", sub, tc.name)
		}
	}
}

// --agent command runs the program after -- as the agent: its output is
// passed through as text, and a missing program is named in the flags'
// words.
func TestAgentCommandRunsTheProgramAfterTheDashes(t *testing.T) {
	ws := workspace(t)
	code, out, errOut := cli(context.Background(), nil, toolboxArgs(t, ws, "--agent", "command", "--", "/toolbox", "echo", "hello from the agent")...)
	assert.Check(t, is.Equal(code, 0), errOut)
	assert.Check(t, is.Contains(out, "hello from the agent"))

	code, _, errOut = cli(context.Background(), nil, toolboxArgs(t, ws, "--agent", "command")...)
	assert.Check(t, is.Equal(code, exitSandboxError))
	assert.Check(t, is.Contains(errOut, "--agent command runs the program given after --"))
	assert.Check(t, !strings.Contains(errOut, "Request."), errOut)
}

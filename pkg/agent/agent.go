// Package agent knows the AI coding agent CLIs the sandbox runs: how to start
// each one headless, what it needs from its environment, and how to read the
// stream it prints into normalised events and one final Result.
//
// The parsers exist because each CLI reports success, cost and failure in its
// own, shifting way, and misreading them is how a run "passes" with nothing
// done. Every rule here is pinned by a real recording in testdata/.
package agent

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Adapter is one agent CLI.
type Adapter interface {
	// Name is the adapter's name, as given to Get.
	Name() string
	// Command returns the headless argv for req. It fails when req asks for
	// something this CLI cannot do, rather than silently dropping it.
	Command(req Request) ([]string, error)
	// Setup describes what the sandbox must provide for the CLI to run.
	Setup() Setup
	// NewParser returns a parser for the CLI's standard output that calls
	// emit for every event as it is read. emit may be nil.
	NewParser(emit func(Event)) *Parser
}

// Request is what a caller wants from one headless run.
type Request struct {
	// Prompt is the task given to the agent.
	Prompt string
	// Model pins the model; empty leaves the CLI's default.
	Model string
	// MaxTurns bounds the agent's turns; zero means no bound.
	MaxTurns int
	// Schema is a JSON schema the final answer must follow (structured
	// output). Claude takes it inline.
	Schema json.RawMessage
	// SchemaPath is where the caller put Schema inside the sandbox. Codex
	// reads the schema from a file.
	SchemaPath string
	// AllowedTools are the tools the agent may use without asking.
	AllowedTools []string
	// PermissionMode is Claude's --permission-mode (e.g. "acceptEdits").
	PermissionMode string
	// BaseURL sends model API traffic to another endpoint (a credential
	// gateway), given as its root URL without an API version path. Codex
	// takes it on the command line (as a custom provider, with /v1
	// appended); Claude and Gemini ignore it here and read it from the
	// variable Setup().BaseURLEnv, which the caller sets to the same URL.
	BaseURL string
	// Args are extra arguments placed before the prompt. For the command
	// adapter they are the whole program argv.
	Args []string
}

// Setup is what the sandbox must provide for a CLI to run headless. It holds
// names, never secret values: the caller supplies those.
type Setup struct {
	// CredentialEnv names the variable that carries the API credential.
	CredentialEnv string
	// BaseURLEnv names the variable that points the CLI at another API base
	// URL; empty when the CLI has none (Codex: use Request.BaseURL).
	BaseURLEnv string
	// Env are fixed, non-secret NAME=value settings that keep the CLI from
	// calling hosts other than its model API.
	Env []string
	// HomeFiles are settings files the CLI reads, by path relative to $HOME.
	HomeFiles map[string]string
	// Hosts is the default egress allowlist: the CLI's model API hosts.
	Hosts []string
}

// EnvNames lists every environment variable name the CLI reads from Setup.
func (s Setup) EnvNames() []string {
	var names []string
	for _, n := range []string{s.CredentialEnv, s.BaseURLEnv} {
		if n != "" {
			names = append(names, n)
		}
	}
	for _, kv := range s.Env {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	return names
}

var adapters = map[string]Adapter{
	"claude":  claude{},
	"codex":   codex{},
	"gemini":  gemini{},
	"command": command{},
}

// Names lists the adapters, sorted.
func Names() []string {
	names := make([]string, 0, len(adapters))
	for n := range adapters {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Get returns the adapter called name.
func Get(name string) (Adapter, error) {
	a, ok := adapters[name]
	if !ok {
		return nil, fmt.Errorf("unknown agent %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	return a, nil
}

// checkRequest rejects what no adapter can run.
func checkRequest(req Request) error {
	if strings.TrimSpace(req.Prompt) == "" {
		return fmt.Errorf("empty prompt")
	}
	if req.MaxTurns < 0 {
		return fmt.Errorf("max turns %d is negative", req.MaxTurns)
	}
	if len(req.Schema) > 0 && !json.Valid(req.Schema) {
		return fmt.Errorf("schema is not valid JSON")
	}
	for _, f := range []struct{ name, v string }{
		{"model", req.Model}, {"schema path", req.SchemaPath},
		{"permission mode", req.PermissionMode}, {"base URL", req.BaseURL},
	} {
		// A value that looks like a flag would be read as one by the CLI.
		if strings.HasPrefix(f.v, "-") || strings.ContainsAny(f.v, "\n\x00'") {
			return fmt.Errorf("%s %q: must not start with '-' or contain a newline, NUL or quote", f.name, f.v)
		}
	}
	for _, t := range req.AllowedTools {
		if t == "" || strings.ContainsAny(t, ",\n") {
			return fmt.Errorf("allowed tool %q: must be non-empty with no comma or newline", t)
		}
	}
	return nil
}

// unsupported names the Request fields a CLI has no flag for, so a caller
// never believes a limit is enforced when it is not.
func unsupported(agent string, fields map[string]bool) error {
	var set []string
	for name, isSet := range fields {
		if isSet {
			set = append(set, name)
		}
	}
	if len(set) == 0 {
		return nil
	}
	slices.Sort(set)
	return fmt.Errorf("%s has no option for %s", agent, strings.Join(set, ", "))
}

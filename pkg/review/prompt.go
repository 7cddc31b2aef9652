package review

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"text/template"

	"github.com/org/sandbox-action/pkg/agent"
)

// PromptVersion names the revision of the review prompt, for logs and the
// status comment: a review can be traced to the words that asked for it.
const PromptVersion = "review-prompt/1"

//go:embed prompt.md
var promptText string

var promptTmpl = template.Must(template.New("prompt.md").Option("missingkey=error").Parse(promptText))

// Names of the files in the agent's read-only context directory.
const (
	PRFile   = "pr.json"
	DiffFile = "diff.patch"
)

// PR is the pull request's metadata the agent is given (as pr.json). Title
// and Body are the author's words: they go to a file, never into the prompt.
type PR struct {
	Repo    string `json:"repository"`
	Number  int    `json:"number"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Author  string `json:"author"`
	URL     string `json:"url,omitempty"`
	Base    string `json:"base_ref"`
	BaseSHA string `json:"base_sha"`
	Head    string `json:"head_ref"`
	HeadSHA string `json:"head_sha"`
}

// PromptInput is what the review prompt is made of.
type PromptInput struct {
	// Agent is the adapter's name: Gemini, which has no schema flag, is asked
	// for a fenced JSON block instead.
	Agent string
	// ContextDir is where the context directory is mounted in the sandbox
	// (read-only), e.g. "/context".
	ContextDir string
	// Decision is the run's scope: ScopeSince names the last reviewed head.
	Decision Decision
	// Skipped files are counted in the prompt (their names, chosen by the
	// pull request's author, stay in pr.json) so the agent does not go
	// looking for them.
	Skipped []Skipped
	// Extra are the repository's own instructions (config agent.prompt).
	// They are appended to the template; they cannot replace it.
	Extra   string
	Options Options
}

// Prompt renders the one review prompt of this version.
func Prompt(in PromptInput) (string, error) {
	if !path.IsAbs(in.ContextDir) {
		return "", fmt.Errorf("review prompt: context directory %q must be an absolute path in the sandbox", in.ContextDir)
	}
	data := map[string]any{
		"ContextDir": path.Clean(in.ContextDir), "PRFile": PRFile, "DiffFile": DiffFile, "SchemaFile": SchemaFile,
		"Since": "", "Skipped": len(in.Skipped), "Extra": strings.TrimSpace(in.Extra),
		"AllowApprove": in.Options.AllowApprove, "Fenced": usesFence(in.Agent),
	}
	if in.Decision.Scope == ScopeSince {
		data["Since"] = in.Decision.Since
	}
	var b bytes.Buffer
	if err := promptTmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("review prompt: %w", err)
	}
	return b.String(), nil
}

// usesFence reports whether the agent is asked for its answer in a fenced
// block: every agent but those with a schema flag.
func usesFence(agentName string) bool {
	return agentName != "claude" && agentName != "codex"
}

// Request builds the headless request of a review run: the prompt, and the
// schema the way the agent takes it (Claude inline with --json-schema, Codex
// from the context directory with --output-schema, Gemini through the
// prompt). The caller adds the model, turn limit and tools.
func Request(in PromptInput) (agent.Request, error) {
	prompt, err := Prompt(in)
	if err != nil {
		return agent.Request{}, err
	}
	req := agent.Request{Prompt: prompt}
	if !usesFence(in.Agent) {
		req.Schema = json.RawMessage(Schema(in.Options.AllowApprove))
		req.SchemaPath = path.Join(path.Clean(in.ContextDir), SchemaFile)
	}
	return req, nil
}

// ContextFiles are the files of the agent's read-only context directory, by
// name: the pull request's metadata with the files left out of the review,
// the diff to review (sel.Patch) and the schema.
func ContextFiles(pr PR, sel Selection, o Options) (map[string][]byte, error) {
	skipped := sel.Skipped
	if skipped == nil {
		skipped = []Skipped{}
	}
	meta, err := json.MarshalIndent(struct {
		PR
		NotReviewed []Skipped `json:"not_reviewed"`
	}{pr, skipped}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("context: pull request metadata: %w", err)
	}
	return map[string][]byte{
		PRFile:     append(meta, '\n'),
		DiffFile:   sel.Patch,
		SchemaFile: Schema(o.AllowApprove),
	}, nil
}

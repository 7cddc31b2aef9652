package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/agent"
	"github.com/org/sandbox-action/pkg/gitexec"
	"github.com/org/sandbox-action/pkg/outcome"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/review"
	"github.com/org/sandbox-action/pkg/spec"
)

// contextDir is where the review's context directory is mounted, read-only,
// in the sandbox: the same path as in CI.
const contextDir = "/context"

// runLiveReview reviews the working tree's changes since its merge base
// with --base: the agent runs in the sandbox as `sandbox run` would run it,
// with the review prompt and schema, and its answer is printed as the
// review CI would post.
func runLiveReview(cmd *cobra.Command, s *streams, f *reviewFlags) error {
	switch {
	case f.from != "" || f.diff != "" || f.since != "" || len(f.earlier) > 0:
		return usageError(errors.New("--base runs the agent: it takes none of --from, --diff, --since, --earlier"))
	case f.budget.FileBytes <= 0 || f.budget.TotalBytes <= 0:
		return usageError(errors.New("--max-file-diff-bytes and --max-diff-bytes must be positive"))
	}
	ctx := cmd.Context()
	req, err := f.request(cmd.Flags(), nil)
	if err != nil {
		return &exitError{code: exitSandboxError, err: err}
	}
	settings, err := plan.Resolve(req)
	if err != nil {
		return &exitError{code: exitSandboxError, err: err}
	}
	agentName, extra := f.agent, f.prompt
	if cfg := settings.Config; cfg != nil {
		if agentName == "" {
			agentName = cfg.Agent.Name
		}
		// The repository's prompt extends the review template; --prompt
		// adds to both.
		extra = strings.TrimSpace(cfg.Agent.Prompt + "\n\n" + f.prompt)
	}
	if agentName == "" {
		return usageError(fmt.Errorf("--agent is required (one of %s), or agent.name in the config file", strings.Join(agent.Names(), ", ")))
	}

	rp, err := localPlan(ctx, settings.Workspace, f.base, f.budget)
	if err != nil {
		return &exitError{code: exitSandboxError, err: err}
	}
	dir, err := writeContext(rp, f.opts)
	if err != nil {
		return &exitError{code: exitSandboxError, err: err}
	}
	defer os.RemoveAll(dir)
	areq, err := rp.Request(agentName, contextDir, extra, f.opts)
	if err != nil {
		return &exitError{code: exitSandboxError, err: err}
	}
	req.Agent.Name, req.Agent.Prompt = agentName, areq.Prompt
	req.Agent.Schema, req.Agent.SchemaPath = areq.Schema, areq.SchemaPath
	req.Mounts = append(req.Mounts, spec.Mount{Source: dir, Target: contextDir, ReadOnly: true})
	f.opts.Secrets = append(f.opts.Secrets, f.secretValues(agentName)...)

	var d daemon
	defer d.close()
	req.Egress = d.egress(f.proxyTransport)
	p, settings, err := plan.Make(ctx, req, d.host)
	if err == nil {
		_, err = d.open(ctx)
	}
	if err == nil {
		err = checkProxyImage(ctx, d.e, p, settings)
	}
	if err != nil {
		return &exitError{code: exitSandboxError, err: err}
	}
	for _, n := range p.Notices {
		fmt.Fprintf(s.err, "sandbox: %s\n", n)
	}
	fmt.Fprintf(s.err, "sandbox: review of %s since %s (%s): %s\n", short(rp.Head), f.base, rp.Decision.Reason,
		strings.Join(slices.Concat(p.Summary(settings.Features), settings.ModelSummary(), settings.Egress.Summary()), ", "))

	// Progress goes to standard error: standard output is the review.
	// Progress and the sandbox's stderr come from two goroutines.
	errw := &syncWriter{w: s.err}
	progress := agentOutput{s: &streams{out: errw, err: errw}}
	progress.start()
	res := outcome.Run(ctx, d.e, p, outcome.Options{Stdout: errw, Stderr: errw, OnEvent: progress.event})
	if res.Agent == nil {
		return exitFor(res)
	}
	progress.result(*res.Agent, res.Wall)
	perr := printPosted(s, rp, rp.Build(*res.Agent, f.opts), f.asJSON)
	if !res.OK() {
		return exitFor(res)
	}
	return perr
}

// localPlan prepares a review of the working tree against its merge base
// with base, with the host's git run so that the repository cannot make it
// run programs of its choosing.
func localPlan(ctx context.Context, ws, base string, budget review.Budget) (*review.Plan, error) {
	mb, err := gitexec.Output(ctx, ws, "merge-base", base, "HEAD")
	if err != nil {
		return nil, fmt.Errorf("--base %s: %w", base, err)
	}
	head, err := gitexec.Output(ctx, ws, "rev-parse", "HEAD")
	if err != nil {
		return nil, err
	}
	diff, err := gitexec.Output(ctx, ws, "diff", "-M", "--no-color", strings.TrimSpace(string(mb)))
	if err != nil {
		return nil, err
	}
	if len(diff) == 0 {
		return nil, fmt.Errorf("nothing to review: no changes since the merge base with %s", base)
	}
	return review.Prepare(review.Prep{Diff: diff, Head: strings.TrimSpace(string(head)), Force: true, Budget: budget})
}

// writeContext writes the review's context files to a new directory the
// sandbox user can read.
func writeContext(rp *review.Plan, o review.Options) (string, error) {
	files, err := rp.ContextFiles(review.PR{Repo: "(local)", Title: "local changes", HeadSHA: rp.Head}, o)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "sandbox-review-")
	if err != nil {
		return "", fmt.Errorf("context directory: %w", err)
	}
	// MkdirTemp makes it 0700: the sandbox runs as another user.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("context directory: %w", err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("context directory: %w", err)
		}
	}
	return dir, nil
}

// secretValues are the values scrubbed from the printed review: those of
// --secret and --secret-env, and the agent's credential.
func (f *reviewFlags) secretValues(agentName string) []string {
	names := append(append([]string(nil), f.secrets...), f.secretEnv...)
	if a, err := agent.Get(agentName); err == nil && a.Setup().CredentialEnv != "" {
		names = append(names, a.Setup().CredentialEnv)
	}
	var values []string
	for _, n := range names {
		if v, ok := f.lookupEnv(n); ok {
			values = append(values, v)
		}
	}
	return values
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// syncWriter serialises writes from several goroutines to one writer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

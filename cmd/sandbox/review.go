package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/review"
)

type reviewFlags struct {
	// runOptions are `sandbox run`'s flags: a live review runs in the same
	// sandbox (--agent names the agent either way; --prompt adds
	// instructions to the review prompt).
	runOptions
	from, diff, since, head, base string
	earlier, secretEnv            []string
	asJSON                        bool
	opts                          review.Options
	budget                        review.Budget
}

func newReviewCmd(s *streams) *cobra.Command {
	f := &reviewFlags{runOptions: runOptions{lookupEnv: s.lookupEnv}}
	cmd := &cobra.Command{
		Use:   "review (--base REF | --from TRANSCRIPT --diff FILE)",
		Short: "Review local changes in the sandbox, or render a recorded review, as CI would post it",
		Long: `Print the review the GitHub Action would post: each inline comment under its
diff context, the review body, and the status text. Nothing is sent anywhere.

With --base, the agent (--agent, or the config file's) reviews the working
tree's changes since its merge base with REF, in the sandbox, with the same
prompt, schema and read-only /context directory as in CI; the flags of
"sandbox run" apply. Progress goes to standard error, the review to standard
output.

With --from and --diff, a recorded agent transcript (the JSONL stream the
agent CLI printed) and a pull request diff are rendered without running
anything, so a CI run can be reproduced exactly.

Earlier review bodies (--earlier, oldest first) make findings they posted
count as repeats, as on a second push; --since gives the diff of that push.

Exit status: 0 when a review would be posted, 1 when the agent's output gives
none (no structured output, or output that breaks the schema: the status text
says which), 2 for a usage or input error. With --base, a run that did not end
well exits as "sandbox run" would (125, 124, 128+N…), after printing what it
could.`,
		Example: `  sandbox review --base origin/main --image my-agents:1 --agent claude
  sandbox review --from run.jsonl --diff pr.diff
  gh pr diff 42 > pr.diff && sandbox review --agent codex --from codex.jsonl --diff pr.diff --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			return usageError(cobra.NoArgs(cmd, args))
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.base != "" {
				return runLiveReview(cmd, s, f)
			}
			return runReview(s, f)
		},
	}
	fl := cmd.Flags()
	f.runOptions.bind(fl)
	fl.Lookup("prompt").Usage = "instructions added to the review prompt (after the config file's)"
	fl.Lookup("agent").Usage = "the reviewing agent; with --from, the agent that wrote the transcript (default: detected)"
	fl.StringVar(&f.base, "base", "", "review the working tree's changes since its merge base with REF, running the agent")
	fl.StringVar(&f.from, "from", "", `recorded agent transcript ("-" for standard input); --agent names its agent (default: detected)`)
	fl.StringVar(&f.diff, "diff", "", "the pull request's diff (git diff or GitHub's .diff)")
	fl.StringVar(&f.head, "head", "local", "with --from: head commit recorded in the review's marker")
	fl.StringArrayVar(&f.earlier, "earlier", nil, "file holding an earlier review body (repeatable, oldest first)")
	fl.StringVar(&f.since, "since", "", "diff from the last reviewed head to this one (with --earlier)")
	fl.BoolVar(&f.asJSON, "json", false, "print the review as JSON (event, body, comments, status, counts)")
	fl.BoolVar(&f.opts.AllowApprove, "allow-approve", false, "let the verdict approve the pull request")
	fl.BoolVar(&f.opts.RequestChanges, "request-changes", false, "post a request_changes verdict as REQUEST_CHANGES (default: COMMENT)")
	fl.StringArrayVar(&f.secretEnv, "secret-env", nil, "environment variable whose value is scrubbed from the output (repeatable)")
	fl.IntVar(&f.budget.FileBytes, "max-file-diff-bytes", review.DefaultFileBytes, "largest diff of one file that is reviewed")
	fl.IntVar(&f.budget.TotalBytes, "max-diff-bytes", review.DefaultTotalBytes, "most diff reviewed in one run")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return cmd
}

func runReview(s *streams, f *reviewFlags) error {
	switch {
	case f.from == "":
		return usageError(fmt.Errorf("--base or --from is required: review local changes, or render a recorded run"))
	case f.diff == "":
		return usageError(fmt.Errorf("--diff is required: the pull request's diff"))
	case f.since != "" && len(f.earlier) == 0:
		return usageError(fmt.Errorf("--since needs --earlier: the review it follows"))
	case f.budget.FileBytes <= 0 || f.budget.TotalBytes <= 0:
		return usageError(fmt.Errorf("--max-file-diff-bytes and --max-diff-bytes must be positive"))
	}
	prep := review.Prep{Head: f.head, Force: true, Budget: f.budget}
	var err error
	if prep.Diff, err = readInput(s, "--diff", f.diff); err != nil {
		return err
	}
	if f.since != "" {
		if prep.Since, err = readInput(s, "--since", f.since); err != nil {
			return err
		}
		prep.Force = false
	}
	for _, e := range f.earlier {
		b, err := readInput(s, "--earlier", e)
		if err != nil {
			return err
		}
		prep.Earlier = append(prep.Earlier, string(b))
	}
	transcript, err := readInput(s, "--from", f.from)
	if err != nil {
		return err
	}
	plan, err := review.Prepare(prep)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	res, err := review.ReadTranscript(f.agent, transcript)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	f.opts.Secrets = append(f.opts.Secrets, f.secretValues(res.Agent)...)
	return printPosted(s, plan, plan.Build(res, f.opts), f.asJSON)
}

// printPosted prints the review; a run that gives no review to post exits
// 1, never green.
func printPosted(s *streams, plan *review.Plan, posted *review.Posted, asJSON bool) error {
	if err := printReview(s.out, posted, plan, asJSON); err != nil {
		return err
	}
	if !posted.Post {
		return &exitError{code: 1}
	}
	return nil
}

func printReview(out io.Writer, p *review.Posted, plan *review.Plan, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	_, err := io.WriteString(out, p.Text(plan.Diff))
	return err
}

// readInput reads the file flag names, or standard input for "-".
func readInput(s *streams, flag, name string) ([]byte, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(s.in)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("%s: %w", flag, err)}
	}
	return b, nil
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/agent"
)

func newEventsCmd(s *streams) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "events --agent NAME [FILE|-]",
		Short: "Print the normalised events of a recorded agent transcript",
		Long: `Parse a transcript an agent CLI printed (a file, or standard input when FILE
is "-" or absent) and print its normalised events as JSON lines. The last line
is the result: {"type":"result","success":…,"text":…,"structured_output":…,
"cost_usd":…,"session_id":…,"error":…}.

Exit status: 0 when the agent succeeded, 1 when it failed, 2 when the input
cannot be read.`,
		Example: `  sandbox events --agent claude run.jsonl
  claude -p --output-format stream-json --verbose "hi" | sandbox events --agent claude`,
		Args: func(cmd *cobra.Command, args []string) error {
			return usageError(cobra.MaximumNArgs(1)(cmd, args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return usageError(fmt.Errorf("--agent is required (one of %s)", strings.Join(agent.Names(), ", ")))
			}
			a, err := agent.Get(name)
			if err != nil {
				return usageError(err)
			}
			in, closeIn, err := openInput(s, args)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			defer closeIn()
			return printEvents(s.out, a, in)
		},
	}
	cmd.Flags().StringVar(&name, "agent", "", "agent that wrote the transcript: "+strings.Join(agent.Names(), ", "))
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return cmd
}

// usageError gives a command-line mistake exit status 2, keeping 1 for "the
// agent failed".
func usageError(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: 2, err: err}
}

// openInput opens the transcript named by args, standard input by default.
func openInput(s *streams, args []string) (io.Reader, func(), error) {
	if len(args) == 0 || args[0] == "-" {
		return s.in, func() {}, nil
	}
	f, err := os.Open(args[0])
	if err != nil {
		return nil, nil, err
	}
	return f, func() { _ = f.Close() }, nil
}

// printEvents writes each event of in as a JSON line, then the result. The
// exit status says whether the agent succeeded.
func printEvents(out io.Writer, a agent.Adapter, in io.Reader) error {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	var writeErr error
	p := a.NewParser(func(e agent.Event) {
		if writeErr == nil {
			writeErr = enc.Encode(e)
		}
	})
	if err := p.Parse(in); err != nil {
		return &exitError{code: 2, err: err}
	}
	if writeErr != nil {
		return fmt.Errorf("write events: %w", writeErr)
	}
	res := p.Finish(0, nil)
	if err := enc.Encode(res); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	if !res.Success {
		return &exitError{code: 1, err: fmt.Errorf("agent failed: %s", res.ErrorMessage)}
	}
	return nil
}

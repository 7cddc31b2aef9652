package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/config"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

func newTrustCmd(s *streams) *cobra.Command {
	var workspace, configPath string
	cmd := &cobra.Command{
		Use:   "trust [--workspace DIR] [--config FILE]",
		Short: "Trust the workspace's config file to weaken the sandbox or pass host values in",
		Long: `Show what the workspace's config file (` + config.DefaultPath + `) allows, and
trust its exact content. Settings that weaken the sandbox or bring values from
your environment into it (relax, user, env, secrets, a network mode other than
private, the network allowlist, the model API URL) apply only from a trusted file: an earlier sandbox run, or a branch
you checked out, could have written it. Trust is recorded outside the workspace
($XDG_CONFIG_HOME/sandbox-action/trust, or ~/.config/sandbox-action/trust)
against a hash of the content, so a changed file must be trusted again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := config.DefaultTrustStore(getenvOf(s.lookupEnv))
			if err != nil {
				return &exitError{code: exitSandboxError, err: err}
			}
			ws, _, err := plan.Workspace(workspace)
			if err != nil {
				return &exitError{code: exitSandboxError, err: err}
			}
			c, err := plan.FindConfig(configPath, workspace, ws)
			if err != nil {
				return &exitError{code: exitSandboxError, err: err}
			}
			ps := c.File.Privileges()
			if len(ps) == 0 {
				fmt.Fprintf(s.out, "%s weakens nothing and copies no host values: it applies without trust.\n", c.Path)
			} else {
				fmt.Fprintf(s.out, "%s allows:\n", c.Path)
				for _, p := range ps {
					fmt.Fprintf(s.out, "  %s: %s\n      %s\n", p.Key, p.Value, p.Effect)
				}
			}
			if err := store.Add(c.Path, c.File.Sum()); err != nil {
				return &exitError{code: exitSandboxError, err: err}
			}
			fmt.Fprintf(s.out, "Trusted this content (%s); a change to the file must be trusted again.\n", c.File.Sum())
			return nil
		},
	}
	cmd.Flags().StringVar(&workspace, "workspace", ".", "working tree whose config file to trust")
	cmd.Flags().StringVar(&configPath, "config", "", "config file (default: WORKSPACE/"+config.DefaultPath+")")
	return cmd
}

// trustStore is the person's trust store, or nil (nothing trusted) when
// there is no home directory to keep it in.
func trustStore(lookupEnv func(string) (string, bool)) config.Trust {
	store, err := config.DefaultTrustStore(getenvOf(lookupEnv))
	if err != nil {
		return nil
	}
	return store
}

// explainUntrusted adds the command that trusts the config file to an
// *config.UntrustedError.
func (o *runOptions) explainUntrusted(err error) error {
	var ue *config.UntrustedError
	if !errors.As(err, &ue) {
		return err
	}
	args := []string{"sandbox", "trust"}
	if ws, err := filepath.Abs(o.workspace); err == nil {
		args = append(args, "--workspace", ws)
	}
	if o.configPath != "" {
		if p, err := filepath.Abs(o.configPath); err == nil {
			args = append(args, "--config", p)
		}
	}
	ue.Fix = spec.QuoteCommand(args...)
	return err
}

func getenvOf(lookup func(string) (string, bool)) func(string) string {
	return func(name string) string {
		if lookup == nil {
			return ""
		}
		v, _ := lookup(name)
		return v
	}
}

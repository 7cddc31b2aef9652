package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/plan"
	"github.com/org/sandbox-action/pkg/spec"
)

func newPsCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "ps",
		Short: "List the containers, volumes and networks sandbox runs created",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := engine.Open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.Close()
			objs, err := e.List(cmd.Context())
			if err != nil {
				return err
			}
			printObjects(s, objs, time.Now())
			return nil
		},
	}
}

func printObjects(s *streams, objs []engine.Object, now time.Time) {
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tKIND\tNAME\tROLE\tSTATE\tAGE\tWORKSPACE")
	for _, o := range objs {
		state := o.State
		if state == "" {
			state = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.RunID, o.Kind, o.Name, o.Labels[spec.LabelRole], state,
			now.Sub(o.Created).Round(time.Second), o.Workspace)
	}
	_ = tw.Flush()
}

func newGCCmd(s *streams) *cobra.Command {
	var o engine.GCOptions
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Remove what killed sandbox runs left behind",
		Long: `Remove every container, volume and network a sandbox run created (found
by its org.sandbox-action.run-id label, or a volume by its name) whose run is
no longer alive, and the socket directory a host-transport proxy left in
$TMPDIR (a minute after it was made, or at once with --run). A run is alive
while its process holds the lock on its workspace. Without --run, only runs
this user started on this host are touched (org.sandbox-action.origin);
--all removes every run's objects, live ones too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := engine.Open(cmd.Context())
			if err != nil {
				return err
			}
			defer e.Close()
			o.Origin = plan.LocalOrigin()
			// Where `sandbox run` makes host transports' socket directories.
			o.SocketDirs = os.TempDir()
			removed, err := e.GC(cmd.Context(), o)
			for _, o := range removed {
				fmt.Fprintf(s.out, "removed %s %s (run %s)\n", o.Kind, o.Name, o.RunID)
			}
			if err == nil && len(removed) == 0 {
				fmt.Fprintln(s.out, "nothing to remove")
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "also remove the objects of live runs and of other users' and hosts' runs")
	cmd.Flags().StringVar(&o.RunID, "run", "", "only remove the objects of this run")
	return cmd
}

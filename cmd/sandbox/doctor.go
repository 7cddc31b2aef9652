package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/engine"
	"github.com/org/sandbox-action/pkg/plan"
)

func newDoctorCmd(s *streams) *cobra.Command {
	var image, proxyImage string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the Docker daemon, the image, runtimes (gVisor too), disk and where private mode's proxy runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := engine.Open(cmd.Context())
			if err != nil {
				fmt.Fprintf(s.out, "✗ daemon: %v\n", err)
				return &exitError{code: 1}
			}
			defer e.Close()
			checks := e.Doctor(cmd.Context(), image)
			if checks[0].OK { // the daemon answers
				bin, err := sandboxBinary()
				if err != nil {
					return &exitError{code: 1, err: err}
				}
				checks = append(checks, e.PrivateCheck(cmd.Context(), bin, proxyImage))
			}
			failed := 0
			for _, ch := range checks {
				mark := "✓"
				switch {
				case !ch.OK && ch.Optional:
					mark = "!"
				case !ch.OK:
					mark = "✗"
					failed++
				}
				fmt.Fprintf(s.out, "%s %s: %s\n", mark, ch.Name, ch.Detail)
			}
			if failed > 0 {
				return &exitError{code: 1, err: errors.New("some checks failed")}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&image, "image", "", "also check that this image is present")
	cmd.Flags().StringVar(&proxyImage, "proxy-image", plan.DefaultProxyImage, "the egress proxy's image, needed where it runs in a container")
	return cmd
}

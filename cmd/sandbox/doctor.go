package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/org/sandbox-action/pkg/engine"
)

func newDoctorCmd(s *streams) *cobra.Command {
	var image string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the Docker daemon, the image, runtimes (gVisor too) and disk",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := engine.Open(cmd.Context())
			if err != nil {
				fmt.Fprintf(s.out, "✗ daemon: %v\n", err)
				return &exitError{code: 1}
			}
			defer e.Close()
			failed := 0
			for _, ch := range e.Doctor(cmd.Context(), image) {
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
	return cmd
}

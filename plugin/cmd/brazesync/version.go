package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newVersionCmd is `brazesync version`, the same line as `brazesync --version`.
func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print brazesync's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "brazesync", version)
		},
	}
}

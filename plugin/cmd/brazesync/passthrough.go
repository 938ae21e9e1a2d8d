package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// mainFunc is a package's own command line (the emulators', the Action Hub's): it parses its
// flags, runs, and returns the exit code.
type mainFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// newPassthroughCmd wires a package that parses its own flags as a command. Cobra hands it every
// argument untouched, so the package stays the owner of its flags and their help text.
func newPassthroughCmd(use, short, long string, run mainFunc) *cobra.Command {
	cmd := &cobra.Command{
		Use:                use,
		Short:              short,
		Long:               long,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if wantsHelp(args) {
				printHelp(cmd, run, args)
				return nil
			}
			return exitWith(run(cmd.Context(), args, cmd.OutOrStdout(), cmd.ErrOrStderr()))
		},
	}
	// `brazesync help emulator braze` lands here, as --help does.
	cmd.SetHelpFunc(func(cmd *cobra.Command, _ []string) { printHelp(cmd, run, nil) })
	return cmd
}

// wantsHelp reports whether args ask for help as Go's flag package reads them. Those packages
// return 2 on -h; help is a successful command here, as everywhere in this CLI.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--h", "--help":
			return true
		}
	}
	return false
}

// printHelp prints the command's description, then the package's own usage: it runs the package
// with -h after the leading words (a subcommand such as `action-hub token`), which prints the
// flags and starts nothing.
func printHelp(cmd *cobra.Command, run mainFunc, args []string) {
	out := cmd.OutOrStdout()
	desc := cmd.Long
	if desc == "" {
		desc = cmd.Short
	}
	fmt.Fprintf(out, "%s\n\nUsage:\n  %s\n\n", strings.TrimSpace(desc), cmd.UseLine())
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	run(ctx, append(leadingWords(args), "-h"), out, out)
}

// leadingWords are the arguments before the first flag.
func leadingWords(args []string) []string {
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			return args[:i:i]
		}
	}
	return args
}

package main

import "github.com/spf13/cobra"

// Shell completion: cobra's `completion bash|zsh|fish|powershell` command writes the scripts; these
// helpers tell it what the arguments and flag values of sync and check can be.

// logLevels and logFormats are the values newLogger accepts.
var (
	logLevels  = []string{"trace", "debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// specFileArgs completes spec file names.
func specFileArgs(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return []string{"yml", "yaml"}, cobra.ShellCompDirectiveFilterFileExt
}

// completeValues offers a flag's fixed values. A flag that does not exist is a programmer error.
func completeValues(cmd *cobra.Command, flag string, values []string) {
	if err := cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)); err != nil {
		panic(err)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/brazesync/brazesync/plugin/check"
)

// checkFormats are the values of check's --format.
var checkFormats = []string{"text", "json"}

// checkFlags are the flags of `brazesync check`. A new flag is a field here, a line in register and,
// when the checks need it, a line in run.
type checkFlags struct {
	testUser, format, logLevel string
	timeout                    time.Duration
}

// newCheckCmd is `brazesync check`: every check that needs no profile change, one line each.
func newCheckCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check [flags] SPEC.yml [SPEC.yml…]",
		Short: "Check a spec without changing any profile: key, host, plugins, columns",
		Long: "Run every check that changes no profile, one line each: the Braze key and host, each source's\n" +
			"login and tables, the column mapping. Flags may come before or after the spec files.\n\n" +
			"Exit codes: 0 no failed line · 1 a line failed · 2 the spec files cannot be read.",
		ValidArgsFunction: specFileArgs,
		RunE:              f.run,
	}
	f.register(cmd)
	return cmd
}

func (f *checkFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.testUser, "test-user", "", "a user that must exist in Braze, identified as the destination's user_key (read with /users/export/ids)")
	fs.StringVar(&f.format, "format", "text", "output: text (one line per check) or json")
	fs.StringVar(&f.logLevel, "log-level", "warn", "log level of the plugins' logs: trace, debug, info, warn, error")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "time allowed for each network step")
	completeValues(cmd, "format", checkFormats)
	completeValues(cmd, "log-level", logLevels)
}

func (f *checkFlags) run(cmd *cobra.Command, specs []string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	log, err := newLogger(stderr, "text", f.logLevel)
	if err != nil {
		return err
	}
	if !slices.Contains(checkFormats, f.format) {
		return fmt.Errorf("--format: %q is not one of text, json", f.format)
	}
	res := check.Run(cmd.Context(), check.Options{SpecFiles: specs, TestUser: f.testUser, Log: log, Timeout: f.timeout})
	if f.format == "json" {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		res.Print(stdout)
	}
	return exitWith(res.ExitCode())
}

// Command brazesync runs syncs from warehouse queries into Braze, checks sync specs, and serves the
// local emulators and the Looker Action Hub.
//
// Each command lives in its own file as a newXCmd constructor; newRootCmd registers them. Commands
// end the process with an exit code by returning exitWith(code); any other error is a command line
// that cannot run (unknown command or flag, bad flag value) and exits with exitUsage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/brazesync/brazesync/plugin/runner"
)

// version is stamped by the build (-ldflags -X main.version=…).
var version = "development"

// exitUsage is the exit code of a command line that cannot run: sync's configuration code, which
// check.ExitConfig equals, as docs/operations.md documents.
const exitUsage = runner.ExitConfig

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "brazesync",
		Short: "Push warehouse query results into Braze as profile updates",
		Long: "brazesync pushes the users a Snowflake query, a Looker Look or a file returns into Braze /users/track,\n" +
			"at Braze's rate limit, retried, with every row accounted for. A sync spec is a CloudQuery sync spec.",
		Version:       version,
		SilenceErrors: true, // execute prints errors, with the exit code the docs promise
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
			return exitWith(exitUsage)
		},
	}
	root.SetVersionTemplate("brazesync {{.Version}}\n")
	root.AddCommand(newSyncCmd(), newCheckCmd(), newEmulatorCmd(), newActionHubCmd(), newVersionCmd(), newStateCmd())
	return root
}

// execute runs one command line and returns the process's exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	}
	if cmd == nil {
		cmd = root
	}
	fmt.Fprintf(stderr, "%s: %v%s\nRun '%s --help' for usage.\n", cmd.CommandPath(), err, dashHint(cmd, err), cmd.CommandPath())
	return exitUsage
}

// exitCode ends the process with that code; the command has already said why.
type exitCode int

func (c exitCode) Error() string { return "exit status " + strconv.Itoa(int(c)) }

// exitWith is the error a command returns to end with code: nil for 0, so cobra sees success.
func exitWith(code int) error {
	if code == 0 {
		return nil
	}
	return exitCode(code)
}

var singleDash = regexp.MustCompile(`in -([A-Za-z][A-Za-z0-9-]+)`)

// dashHint helps a user of the old single-dash spelling (-report): long flags take two dashes.
func dashHint(cmd *cobra.Command, err error) string {
	m := singleDash.FindStringSubmatch(err.Error())
	if m == nil || cmd.Flags().Lookup(m[1]) == nil {
		return ""
	}
	return " (long flags take two dashes: --" + m[1] + ")"
}

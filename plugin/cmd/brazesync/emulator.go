package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
)

// newEmulatorCmd is `brazesync emulator braze|snowflake|looker`: local emulators that speak each
// system's wire protocol. Each emulator package parses its own flags.
func newEmulatorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "emulator braze|snowflake|looker [flags]",
		Short: "Run a local emulator of Braze, Snowflake or Looker",
		Long: "Run a local emulator that speaks the real wire protocol, to try brazesync without production.\n" +
			"See `brazesync emulator braze --help` (and snowflake, looker) for each one's flags.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
				return exitWith(exitUsage)
			}
			return fmt.Errorf("unknown emulator %q (braze, snowflake, looker)", args[0])
		},
	}
	cmd.AddCommand(
		newPassthroughCmd("braze [flags]", "Emulate the Braze REST API (/users/track, /users/export/ids, …)",
			"Emulate the Braze REST API: /users/track with Braze's caps, rate limits and errors, /users/export/ids,\n"+
				"and an admin API under /_emulator/ (docs/emulator-braze.md).", brazeemu.Main),
		newPassthroughCmd("snowflake [flags]", "Emulate Snowflake's SQL API as gosnowflake speaks it",
			"Emulate Snowflake as gosnowflake speaks to it: login (password, key pair, OAuth), queries, Arrow\n"+
				"result chunks, seeded Braze Currents tables (docs/snowflake.md).", snowflakeemu.Main),
		newPassthroughCmd("looker [flags]", "Emulate the Looker API 4.0 (login, Looks, inline queries)",
			"Emulate the Looker API 4.0: login, Looks and inline queries streamed as json_detail, with a\n"+
				"seeded users view (docs/looker.md).", lookeremu.Main),
	)
	return cmd
}

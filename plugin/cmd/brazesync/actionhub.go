package main

import (
	"github.com/spf13/cobra"

	"github.com/brazesync/brazesync/plugin/actionhub"
)

// newActionHubCmd is `brazesync action-hub [serve|token]`. The actionhub package parses its own
// subcommands and flags.
func newActionHubCmd() *cobra.Command {
	return newPassthroughCmd("action-hub [serve|token] [flags]",
		"Serve the Looker Action Hub, a drop-in for Looker's stock Braze action",
		"Serve the Looker Action Hub (`serve`, the default), a drop-in for Looker's stock Braze action, or\n"+
			"print the authorization token Looker needs (`token`). The hub secret is read from the environment\n"+
			"variable named by --secret-env, never from a flag value. See docs/looker.md.", actionhub.Main)
}

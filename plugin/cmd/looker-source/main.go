// Command looker-source is the brazesync Looker source: a CloudQuery source
// plugin that runs Looker Looks and queries (API 4.0) and streams their rows.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cloudquery/plugin-sdk/v4/serve"

	"github.com/brazesync/brazesync/plugin/lifeline"
	"github.com/brazesync/brazesync/source/looker"
)

func main() {
	// Launched by a host (brazesync, the CloudQuery CLI): exit when it is gone, never outlive it.
	if lifeline.Managed(os.Args[1:]) {
		lifeline.Hold()
	}
	if err := serve.Plugin(looker.NewPlugin()).Serve(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Command snowflake-source is brazesync's Snowflake source plugin, served
// over the CloudQuery plugin protocol.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cloudquery/plugin-sdk/v4/serve"

	"github.com/brazesync/brazesync/plugin/lifeline"
	"github.com/brazesync/brazesync/source/snowflake"
)

func main() {
	// Launched by a host (brazesync, the CloudQuery CLI): exit when it is gone, never outlive it.
	if lifeline.Managed(os.Args[1:]) {
		lifeline.Hold()
	}
	if err := serve.Plugin(snowflake.NewPlugin()).Serve(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

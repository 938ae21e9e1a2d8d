// Command snowflake-source is plugin/cmd/snowflake-source with profiling (see package profiled).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cloudquery/plugin-sdk/v4/serve"

	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/test/bench/profiled"
)

func main() {
	stop := profiled.Start("snowflake-source")
	err := serve.Plugin(snowflake.NewPlugin()).Serve(context.Background())
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Command looker-source is plugin/cmd/looker-source with profiling (see package profiled).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cloudquery/plugin-sdk/v4/serve"

	"github.com/brazesync/brazesync/source/looker"
	"github.com/brazesync/brazesync/test/bench/profiled"
)

func main() {
	stop := profiled.Start("looker-source")
	err := serve.Plugin(looker.NewPlugin()).Serve(context.Background())
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

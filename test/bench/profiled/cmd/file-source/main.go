// Command file-source is plugin/cmd/file-source with profiling (see package profiled).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cloudquery/plugin-sdk/v4/serve"

	"github.com/brazesync/brazesync/source/file"
	"github.com/brazesync/brazesync/test/bench/profiled"
)

func main() {
	stop := profiled.Start("file-source")
	err := serve.Plugin(file.NewPlugin()).Serve(context.Background())
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

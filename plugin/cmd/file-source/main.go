// Command file-source is the CloudQuery source plugin that reads CSV, Parquet and NDJSON files.
// Run it as `file-source serve` (the CloudQuery CLI and brazesync do this themselves).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cloudquery/plugin-sdk/v4/serve"

	"github.com/brazesync/brazesync/plugin/lifeline"
	"github.com/brazesync/brazesync/source/file"
)

func main() {
	// Launched by a host (brazesync, the CloudQuery CLI): exit when it is gone, never outlive it.
	if lifeline.Managed(os.Args[1:]) {
		lifeline.Hold()
	}
	if err := serve.Plugin(file.NewPlugin()).Serve(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

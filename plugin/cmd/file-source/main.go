// Command file-source is the CloudQuery source plugin that reads CSV, Parquet and NDJSON files.
// Run it as `file-source serve` (the CloudQuery CLI and brazesync do this themselves).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cloudquery/plugin-sdk/v4/serve"

	"github.com/brazesync/brazesync/source/file"
)

func main() {
	if err := serve.Plugin(file.NewPlugin()).Serve(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

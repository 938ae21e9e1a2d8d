// Command looker-source is the brazesync Looker source: a CloudQuery source
// plugin that runs Looker Looks and queries (API 4.0) and streams their rows.
package main

import (
	"context"
	"log"

	"github.com/brazesync/brazesync/source/looker"
	"github.com/cloudquery/plugin-sdk/v4/serve"
)

func main() {
	if err := serve.Plugin(looker.NewPlugin()).Serve(context.Background()); err != nil {
		log.Fatal(err)
	}
}

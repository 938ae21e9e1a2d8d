// Command snowflake-source is brazesync's Snowflake source plugin, served
// over the CloudQuery plugin protocol.
package main

import (
	"context"
	"log"

	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/cloudquery/plugin-sdk/v4/serve"
)

func main() {
	if err := serve.Plugin(snowflake.NewPlugin()).Serve(context.Background()); err != nil {
		log.Fatal(err)
	}
}

// Command braze-destination is the Braze destination plugin. Launched by brazesync it serves
// hashicorp/go-plugin (gRPC, AutoMTLS); run as `braze-destination serve …` it serves the CloudQuery
// plugin protocol, so `cloudquery sync` can use it too (registry: local).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/cloudquery/plugin-sdk/v4/serve"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/destination/pluginserver"
	"github.com/brazesync/brazesync/plugin/lifeline"
)

func main() {
	if pluginserver.Launched() {
		lifeline.Hold()
		pluginserver.Serve()
		return
	}
	if lifeline.Managed(os.Args[1:]) {
		lifeline.Hold()
	}
	if err := serve.Plugin(destination.NewPlugin()).Serve(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

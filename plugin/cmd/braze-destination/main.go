// Command braze-destination is the Braze destination plugin. Launched by brazesync it serves
// hashicorp/go-plugin (gRPC, AutoMTLS); run as `braze-destination serve …` it serves the CloudQuery
// plugin protocol, so `cloudquery sync` can use it too (registry: local).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cloudquery/plugin-sdk/v4/serve"
	"github.com/hashicorp/go-plugin"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/destination/pluginserver"
	"github.com/brazesync/brazesync/plugin/lifeline"
	"github.com/brazesync/brazesync/plugin/shared"
)

func main() {
	// go-plugin's host sets the handshake cookie; anything else is a CloudQuery (or human) invocation.
	if _, ok := os.LookupEnv(shared.Handshake.MagicCookieKey); ok {
		lifeline.Hold()
		serveGoPlugin()
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

// serveGoPlugin logs JSON lines with hclog's field names on stderr, which go-plugin's host parses
// and re-logs at the right level with every field kept.
func serveGoPlugin() {
	zerolog.LevelFieldName = "@level"
	zerolog.MessageFieldName = "@message"
	zerolog.TimestampFieldName = "@timestamp"
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000000Z07:00"
	log := zerolog.New(os.Stderr).With().Timestamp().Str("@module", "braze-destination").Logger()
	// The host runs the shutdown (drain, then abort, over RPC) and must get the final report, so a
	// SIGTERM sent to the whole process group must not end this process first; go-plugin already
	// ignores SIGINT. If the host itself is gone, the lifeline ends this process.
	signal.Ignore(syscall.SIGTERM)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins:         pluginserver.New(log).Plugins(),
		GRPCServer:      shared.ServerOptions,
	})
}

// Command braze-destination is plugin/cmd/braze-destination's go-plugin mode with
// profiling (see package profiled).
package main

import (
	"os"

	"github.com/hashicorp/go-plugin"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/destination/pluginserver"
	"github.com/brazesync/brazesync/plugin/shared"
	"github.com/brazesync/brazesync/test/bench/profiled"
)

var _ = destination.NewPlugin // the same destination package as the real binary

func main() {
	stop := profiled.Start("braze-destination")
	defer stop()
	zerolog.LevelFieldName = "@level"
	zerolog.MessageFieldName = "@message"
	zerolog.TimestampFieldName = "@timestamp"
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000000Z07:00"
	log := zerolog.New(os.Stderr).With().Timestamp().Str("@module", "braze-destination").Logger()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins:         pluginserver.New(log).Plugins(),
		GRPCServer:      shared.ServerOptions,
	})
}

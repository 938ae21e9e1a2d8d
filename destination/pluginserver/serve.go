package pluginserver

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-plugin"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/plugin/shared"
)

// Launched reports whether a go-plugin host started this process: the host sets the handshake
// cookie; anything else is a CloudQuery (or human) invocation.
func Launched() bool {
	_, ok := os.LookupEnv(shared.Handshake.MagicCookieKey)
	return ok
}

// Serve serves the destination to the go-plugin host that launched this process, until the host
// closes it. Logs are JSON lines with hclog's field names on stderr, which the host parses and
// re-logs at the right level with every field kept.
func Serve() {
	zerolog.LevelFieldName = "@level"
	zerolog.MessageFieldName = "@message"
	zerolog.TimestampFieldName = "@timestamp"
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000000Z07:00"
	log := zerolog.New(os.Stderr).With().Timestamp().Str("@module", "braze-destination").Logger()
	// The host runs the shutdown (drain, then abort, over RPC) and must get the final report, so a
	// SIGTERM sent to the whole process group must not end this process first; go-plugin already
	// ignores SIGINT. If the host itself is gone, the lifeline (see the caller) ends this process.
	signal.Ignore(syscall.SIGTERM)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins:         New(log).Plugins(),
		GRPCServer:      shared.ServerOptions,
	})
}

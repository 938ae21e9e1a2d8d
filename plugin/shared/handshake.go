// Package shared is the contract the hosts (the brazesync runner and the Looker Action Hub) and the
// destination plugin agree on across the hashicorp/go-plugin boundary: the handshake, the plugin
// map, the Destination interface and its gRPC client, which translates between Go values and the
// messages of plugin/pb. Records cross as Arrow IPC streams; reports as destination/report JSON.
// The plugin side (the server) lives beside the destination, in destination/pluginserver.
package shared

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/brazesync/brazesync/plugin/pb"
)

// ProtocolVersion is bumped whenever plugin/pb changes incompatibly; a host and a plugin of different
// versions refuse each other at the handshake with a clear message instead of failing mid-run.
const ProtocolVersion = 1

// Handshake guards against running a plugin binary by hand and against mismatched builds. The cookie
// is a UX guard, not a secret.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "BRAZESYNC_PLUGIN",
	MagicCookieValue: "c3f1b2d4-braze-destination",
}

// Destination is a host's handle on a destination plugin, from the caller's side: Configure once,
// then one Write stream per run; Abort makes the running stream give up; Close releases the plugin.
type Destination interface {
	// Configure sends the spec; the plugin validates it and checks the key before any row is read.
	Configure(ctx context.Context, name, runID string, specJSON []byte) error
	// Write opens the run's stream of records and progress reports.
	Write(ctx context.Context) (*WriteStream, error)
	// Abort dead-letters the running stream's unsent rows as cancelled and ends it with its report.
	Abort(ctx context.Context) error
	// Close releases the plugin's resources.
	Close(ctx context.Context) error
}

// Assert at compile time that the gRPC client is a Destination.
var _ Destination = (*DestinationClient)(nil)

// DestinationPluginName is the name the destination is dispensed under.
const DestinationPluginName = "destination"

// maxMessageBytes is the gRPC message limit on both sides. The host slices records so that each
// message stays far below it (MaxRecordBytes); the headroom is for the IPC framing.
const maxMessageBytes = 16 << 20

// PluginMap is the host's view of the plugins a binary may serve.
var PluginMap = map[string]plugin.Plugin{DestinationPluginName: &DestinationPlugin{}}

// DestinationPlugin is the go-plugin glue for the Destination service. Impl is set on the plugin side.
type DestinationPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl pb.DestinationServer
}

// GRPCServer registers the plugin's implementation.
func (p *DestinationPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterDestinationServer(s, p.Impl)
	return nil
}

// GRPCClient returns the host's client.
func (p *DestinationPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &DestinationClient{rpc: pb.NewDestinationClient(c)}, nil
}

// ServerOptions raise the plugin's receive limit from grpc-go's 4 MiB default (docs/cloudquery.md, "Facts this code relies on").
func ServerOptions(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(maxMessageBytes), grpc.MaxSendMsgSize(maxMessageBytes))...)
}

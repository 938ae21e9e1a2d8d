// Package shared is what the brazesync runner (host) and a destination plugin agree on across the
// hashicorp/go-plugin boundary: the handshake, the plugin map, and the gRPC adapters that translate
// between Go values and the messages of plugin/pb. Records cross as Arrow IPC streams.
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

// DestinationPluginName is the name the destination is dispensed under.
const DestinationPluginName = "destination"

// maxMessageBytes is the gRPC message limit on both sides. The host slices records so that each
// message stays far below it (maxRecordBytes); the headroom is for the IPC framing.
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

// ServerOptions raise the plugin's receive limit from grpc-go's 4 MiB default (cloudquery.md §D).
func ServerOptions(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(maxMessageBytes), grpc.MaxSendMsgSize(maxMessageBytes))...)
}

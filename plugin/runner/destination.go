package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/plugin/shared"
)

// destination is a running destination plugin behind the go-plugin boundary.
type destination struct {
	spec   *DestinationSpec
	client *plugin.Client
	rpc    *shared.DestinationClient
	stream *shared.WriteStream
	sent   atomic.Int64 // rows handed to the plugin
	hung   atomic.Bool  // set by the watchdog before it kills the plugin
	failed error        // the first failure explained, returned again on every later call
}

// startDestination launches the plugin with AutoMTLS and the versioned handshake, and configures it.
// The plugin's JSON logs reach our log through the hclog adapter.
func startDestination(ctx context.Context, spec *DestinationSpec, runID string, log zerolog.Logger) (*destination, error) {
	if _, err := os.Stat(spec.Path); err != nil {
		return nil, fmt.Errorf("%w: destination %q: plugin binary %s: %w (run `make build`)", ErrPlugin, spec.Name, spec.Path, err)
	}
	cmd := exec.Command(spec.Path)
	cmd.Env = childEnv(spec.Spec) // go-plugin adds its handshake variables; SkipHostEnv keeps the rest out
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  shared.Handshake,
		Plugins:          shared.PluginMap,
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     30 * time.Second,
		Logger:           newHCLogger(log.With().Str("destination", spec.Name).Logger()),
		GRPCDialOptions:  []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20), grpc.MaxCallSendMsgSize(16<<20))},
	})
	d := &destination{spec: spec, client: client}
	rpcClient, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("%w: destination %q (%s): %w", ErrPlugin, spec.Name, spec.Path, err)
	}
	raw, err := rpcClient.Dispense(shared.DestinationPluginName)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("%w: destination %q: %w", ErrPlugin, spec.Name, err)
	}
	d.rpc = raw.(*shared.DestinationClient)
	specJSON, err := SpecJSON(spec.Spec)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("%w: destination %q: encoding spec: %w", ErrConfig, spec.Name, err)
	}
	if err := d.rpc.Configure(ctx, spec.Name, runID, specJSON); err != nil {
		client.Kill()
		return nil, fromDestination(spec.Name, err)
	}
	return d, nil
}

// open starts the write stream. Its context is not the run's: on SIGINT the runner stops reading and
// closes the stream gracefully, so the plugin can finish in-flight requests and send its report.
func (d *destination) open(ctx context.Context) error {
	s, err := d.rpc.Write(ctx)
	if err != nil {
		return d.failure(err)
	}
	d.stream = s
	return nil
}

// failure explains an error of the stream, once: a dead or hung plugin is named as such.
func (d *destination) failure(err error) error {
	if d.failed != nil {
		return d.failed
	}
	d.failed = d.explain(err)
	return d.failed
}

func (d *destination) explain(err error) error {
	if d.hung.Load() {
		return fmt.Errorf("%w: destination %q (%s) hung: %w for the stall timeout, killed", ErrPlugin, d.spec.Name, d.spec.Path, errHung)
	}
	if status.Code(err) == codes.Unavailable || status.Code(err) == codes.Canceled {
		// A broken connection may be a crash whose exit go-plugin has not seen yet: give it a moment.
		for i := 0; i < 40 && !d.client.Exited(); i++ {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if d.client.Exited() {
		return fmt.Errorf("%w: destination %q (%s) exited unexpectedly: %w", ErrPlugin, d.spec.Name, d.spec.Path, grpcMessage(err))
	}
	return fromDestination(d.spec.Name, err)
}

// finish ends the stream and waits for the plugin's final report. If ctx ends first, the plugin is
// asked to give up on what it has not sent (Abort), so that its rows are dead-lettered as cancelled
// and a final report still comes back within abortGrace. `brazesync sync` passes a context that
// never ends: its shutdown is superviseShutdown's. When the plugin died (or was killed), the report
// is its last progress snapshot, with the rows it had received but not accounted for marked
// unaccounted.
func (d *destination) finish(ctx context.Context) (*report.Report, error) {
	rep, final, err := d.stream.CloseAndWait(ctx)
	if ctx.Err() != nil && !final {
		actx, cancel := context.WithTimeout(context.Background(), abortGrace)
		_ = d.rpc.Abort(actx)
		rep, final, err = d.stream.CloseAndWait(actx)
		cancel()
	}
	switch {
	case err != nil && final && d.failed == nil:
		// The plugin sent its final report, then its verdict: not a crash to wait for.
		err = fromDestination(d.spec.Name, err)
	case err != nil && d.failed == nil:
		err = d.failure(err)
	case err != nil:
		err = d.failed
	}
	if rep == nil {
		rep = report.New("", time.Now())
	}
	if !final {
		rep.RowsRead = d.sent.Load()
		rep.RowsUnaccounted = max(0, rep.RowsRead-rep.Accounted())
		if err == nil {
			err = fmt.Errorf("%w: destination %q ended without its final report", ErrPlugin, d.spec.Name)
		}
	}
	return rep, err
}

func (d *destination) kill() {
	if d.client != nil {
		d.client.Kill()
	}
}

// errHung is returned when a plugin made no progress for the stall timeout.
var errHung = errors.New("no progress")

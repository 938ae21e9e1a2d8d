package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/plugin/shared"
)

// LaunchOptions describe one destination process started by a host other than `brazesync sync`
// (the Looker Action Hub), so that every front door writes through the same process boundary.
type LaunchOptions struct {
	Path  string // the braze-destination binary
	Name  string // the destination's name in messages and in the plugin's log lines
	RunID string
	// SpecJSON is the destination's spec, API key included: it reaches the plugin only inside the
	// Configure RPC, never on a command line or in the environment.
	SpecJSON []byte
	Log      zerolog.Logger
	// StallTimeout: a plugin with rows outstanding and no progress for this long is killed as hung
	// (default 5 minutes, as for `brazesync sync`).
	StallTimeout time.Duration
}

// Destination is a launched destination plugin whose writer is open: its key was accepted.
// Send records, then Finish once; Finish also stops the process.
type Destination struct {
	d           *destination
	stopWatch   func()
	closeStream context.CancelFunc
}

// LaunchDestination starts the plugin exactly as `brazesync sync` does (go-plugin handshake,
// AutoMTLS), configures it, opens its write stream and waits until the plugin has opened its writer,
// which checks the key against Braze. So when it returns without error nothing has been read yet
// and the key is good; a refused key is an ErrDestinationAuth error.
func LaunchDestination(ctx context.Context, o LaunchOptions) (*Destination, error) {
	shared.RegisterExtensions()
	spec, err := launchSpec(o)
	if err != nil {
		return nil, err
	}
	d, err := startDestination(ctx, spec, o.RunID, o.Log)
	if err != nil {
		return nil, err
	}
	// As for sync, the stream's context is not the caller's: Finish closes it gracefully.
	streamCtx, closeStream := context.WithCancel(context.Background())
	if err := d.open(streamCtx); err != nil {
		closeStream()
		d.kill()
		return nil, err
	}
	if err := d.ready(ctx); err != nil {
		closeStream()
		d.kill()
		return nil, err
	}
	// The runner's stall watchdog, over this one destination.
	r := &run{opts: Options{StallTimeout: o.StallTimeout}, log: o.Log, dests: map[string]*destination{o.Name: d}}
	r.opts.defaults()
	return &Destination{d: d, stopWatch: r.watch(), closeStream: closeStream}, nil
}

func launchSpec(o LaunchOptions) (*DestinationSpec, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(o.SpecJSON))
	dec.UseNumber() // numbers cross unchanged
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: destination %q: decoding spec: %w", ErrConfig, o.Name, err)
	}
	return &DestinationSpec{Name: o.Name, Path: o.Path, Spec: m}, nil
}

// readyPoll is how often ready looks for the plugin's first report.
const readyPoll = 5 * time.Millisecond

// ready waits for the plugin's first report, which it sends once its writer is open (key checked);
// a refused key, a bad endpoint or a crash ends the stream instead.
func (d *destination) ready(ctx context.Context) error {
	t := time.NewTicker(readyPoll)
	defer t.Stop()
	for d.stream.Progress() == nil {
		if err := d.stream.Err(); err != nil {
			return d.failure(err)
		}
		if d.client.Exited() {
			return fmt.Errorf("%w: destination %q (%s) exited before opening its writer", ErrPlugin, d.spec.Name, d.spec.Path)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for destination %q to check the key: %w", d.spec.Name, context.Cause(ctx))
		case <-t.C:
		}
	}
	return nil
}

// Send hands one record to the plugin; it blocks while the plugin is busy (gRPC flow control). A
// dead or hung plugin is named as such in the error.
func (x *Destination) Send(rec arrow.Record) error {
	if err := x.d.stream.Send(rec); err != nil {
		return x.d.failure(err)
	}
	x.d.sent.Add(rec.NumRows())
	return nil
}

// DeleteStale sends CloudQuery's end-of-table message (write_mode overwrite-delete-stale).
func (x *Destination) DeleteStale(table, source string, syncTime time.Time) error {
	if err := x.d.stream.DeleteStale(table, source, syncTime); err != nil {
		return x.d.failure(err)
	}
	return nil
}

// RefuseStale ends a table whose mirror-mode removals the caller refuses, and why (the guard's
// name, such as run_failed): the destination removes nobody from it and reports why.
func (x *Destination) RefuseStale(table, source string, syncTime time.Time, why string) error {
	if err := x.d.stream.RefuseStale(table, source, syncTime, why); err != nil {
		return x.d.failure(err)
	}
	return nil
}

// Sent is the number of rows handed to the plugin so far.
func (x *Destination) Sent() int64 { return x.d.sent.Load() }

// Progress is the plugin's latest report, or nil before the first one.
func (x *Destination) Progress() *report.Report { return x.d.stream.Progress() }

// Finish ends the stream, waits for the plugin's final report until ctx ends (then aborts it, as
// sync does after a signal), and stops the process. When the plugin died, the report is its last
// snapshot with the rows it had not accounted for marked unaccounted.
func (x *Destination) Finish(ctx context.Context) (*report.Report, error) {
	// The watchdog stops first: finish amends the last progress report of a dead plugin, which the
	// watchdog reads. ctx bounds the wait instead (then the plugin is aborted).
	x.stopWatch()
	rep, err := x.d.finish(ctx)
	if err == nil && rep.Status == report.StatusFailed && rep.Error != "" {
		err = fmt.Errorf("destination %q: %s", x.d.spec.Name, rep.Error)
	}
	_ = x.d.rpc.Close(ctx) // the process is stopped next either way
	x.closeStream()
	x.d.kill()
	return rep, err
}

// Kill stops the process at once (Finish is the graceful way).
func (x *Destination) Kill() {
	x.stopWatch()
	x.closeStream()
	x.d.kill()
}

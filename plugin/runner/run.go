package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/plugin/shared"
	bzschema "github.com/brazesync/brazesync/schema"
)

// Options configure one run.
type Options struct {
	SpecFiles  []string
	ReportPath string // where the JSON run report goes; "" for none
	Log        zerolog.Logger
	// Progress receives the live progress display (a terminal) or periodic lines; nil for none. A
	// *Console (also the logger's output) keeps log lines from tearing the live line and logs the
	// progress when the logs are JSON; ProgressTTY is then the Console's.
	Progress         io.Writer
	ProgressTTY      bool
	ProgressInterval time.Duration
	// StallTimeout: a destination with rows outstanding and no progress for this long is killed as hung.
	StallTimeout time.Duration
	// ShutdownTimeout: after SIGINT/SIGTERM (or ctx's end), how long in-flight requests may take
	// to finish; no new request starts meanwhile.
	ShutdownTimeout time.Duration
	// FullRefresh sends everything, ignoring the destinations' sync state (sync --full-refresh).
	FullRefresh bool
	// AllowMassRemoval lifts max_removal_ratio for this run (sync --allow-mass-removal, mirror.go).
	AllowMassRemoval bool
}

// RunReport is the run's JSON report: the destinations' counts added up, then each destination's own
// report and each source's rows.
type RunReport struct {
	report.Report
	Sources      map[string]int64          `json:"source_rows"`
	Destinations map[string]*report.Report `json:"destinations"`
}

// Run executes a sync. It returns the report even when the run failed; ExitCode(err) is the exit code.
// While it runs it handles SIGINT and SIGTERM itself: the first is a graceful shutdown (as ctx's
// end is), the second gives up on requests in flight at once. Either way the report is balanced.
func Run(ctx context.Context, opts Options) (*RunReport, error) {
	shared.RegisterExtensions()
	opts.defaults()
	started := time.Now()
	runID := newRunID(started)
	rr := &RunReport{Report: *report.New(runID, started), Sources: map[string]int64{}, Destinations: map[string]*report.Report{}}
	spec, err := LoadSpecFiles(opts.SpecFiles...)
	if err != nil {
		return rr.finish(opts, err), err
	}
	if opts.FullRefresh {
		spec.fullRefresh()
	}
	if opts.AllowMassRemoval {
		spec.allowMassRemoval()
	}
	spec.markMirrors()
	r := &run{opts: opts, spec: spec, id: runID, log: opts.Log.With().Str("run_id", runID).Logger(), rr: rr}
	err = r.execute(ctx)
	return rr.finish(opts, err), err
}

func (o *Options) defaults() {
	if c, ok := o.Progress.(*Console); ok {
		o.ProgressTTY = c.TTY()
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 10 * time.Second
		if o.ProgressTTY {
			o.ProgressInterval = 250 * time.Millisecond
		}
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 5 * time.Minute
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
}

type run struct {
	total atomic.Int64 // rows the sources announced (schema.MetadataRowsTotal), for the ETA
	opts  Options
	spec  *Spec
	id    string
	log   zerolog.Logger
	rr    *RunReport
	dests map[string]*destination
	stale []staleMessage // DeleteStale held until every source ended (mirror.go)
}

func (r *run) execute(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	second, stopSignals := listenSignals(cancel, r.log)
	defer stopSignals()
	streamCtx, cancelStreams := context.WithCancel(context.Background())
	defer cancelStreams()
	r.dests = map[string]*destination{}
	defer r.killAll()
	if err := r.startDestinations(ctx, streamCtx); err != nil {
		return cancelled(ctx, err)
	}
	stopShutdown := r.superviseShutdown(ctx, second)
	stopWatch := r.watch()
	stopProgress := r.showProgress()
	runErr := r.syncSources(ctx)
	runErr = joinUnique(runErr, r.forwardStale(ctx, runErr))
	finishErr := r.finishDestinations()
	stopProgress()
	stopWatch()
	stopShutdown()
	return cancelled(ctx, joinUnique(runErr, finishErr))
}

// cancelled marks err as a cancellation when the run was cancelled, in whatever phase: a signal
// that came after the sources finished still makes the run cancelled (exit 130).
func cancelled(ctx context.Context, err error) error {
	if ctx.Err() == nil || errors.Is(err, context.Canceled) {
		return err
	}
	return errors.Join(context.Canceled, err)
}

// joinUnique joins errors, dropping one already wrapped by another: a dead destination is seen
// both by the sender and when its stream is closed, and users should read its error once.
func joinUnique(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil, errors.Is(a, b):
		return a
	case errors.Is(b, a):
		return b
	}
	return errors.Join(a, b)
}

func (r *run) startDestinations(ctx, streamCtx context.Context) error {
	for _, ds := range r.spec.Destinations {
		d, err := startDestination(ctx, ds, r.id, r.log)
		if err != nil {
			return err
		}
		r.dests[ds.Name] = d
		if err := d.open(streamCtx); err != nil {
			return err
		}
	}
	return nil
}

// syncSources runs the sources one after another; each record goes to every destination the source
// names. A source's error stops the run: rows read so far are still finished and reported.
func (r *run) syncSources(ctx context.Context) error {
	for _, ss := range r.spec.Sources {
		if err := r.syncSource(ctx, ss); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) syncSource(ctx context.Context, ss *SourceSpec) error {
	src, err := startSource(ctx, ss, r.log)
	if err != nil {
		return err
	}
	defer src.close()
	if err := src.init(ctx, r.id); err != nil {
		return err
	}
	syncTime := time.Now()
	tables := map[string]bool{}
	counted := map[string]bool{} // tables whose announced row count was added to the ETA total
	err = src.sync(ctx, func(ev syncEvent) error {
		if err := ctx.Err(); err != nil {
			return err // cancelled: records already received are not sent on
		}
		if ev.record == nil {
			tables[ev.table] = true
			return nil
		}
		name := tableNameOf(ev.record.Schema())
		if !counted[name] {
			counted[name] = true
			if n, ok := bzschema.RowsTotal(ev.record.Schema()); ok {
				r.total.Add(n * int64(len(ss.Destinations)))
			}
		}
		tables[name] = true
		r.rr.Sources[ss.Name] += ev.record.NumRows()
		return r.deliver(ss, ev.record)
	})
	r.holdStale(ss, src, tables, syncTime, err != nil)
	return err
}

func (r *run) deliver(ss *SourceSpec, rec arrow.Record) error {
	for _, name := range ss.Destinations {
		d := r.dests[name]
		if err := d.stream.Send(rec); err != nil {
			return d.failure(err)
		}
		d.sent.Add(rec.NumRows())
	}
	return nil
}

// finishDestinations closes every stream and collects the reports. It waits for each final report
// (or the plugin's end): after a cancel, superviseShutdown drains, aborts and at last kills them.
func (r *run) finishDestinations() error {
	var errs []error
	for name, d := range r.dests {
		if d.stream == nil {
			continue
		}
		rep, err := d.finish(context.Background())
		rep.RowsNotRead = r.notRead(name, rep)
		if err != nil && d.failed != nil && errors.Is(err, d.failed) {
			err = nil // already reported by the sender
		}
		if d.failed != nil && err == nil {
			errs = append(errs, d.failed)
		}
		r.rr.Destinations[name] = rep
		r.rr.Merge(rep)
		r.rr.DeadLetterFile = firstNonEmpty(r.rr.DeadLetterFile, rep.DeadLetterFile)
		r.rr.DryRun = r.rr.DryRun || rep.DryRun
		r.rr.Notes = append(r.rr.Notes, rep.Notes...)
		if err != nil {
			errs = append(errs, err)
		} else if rep.Status == report.StatusFailed && rep.Error != "" {
			errs = append(errs, fmt.Errorf("destination %q: %s", name, rep.Error))
		}
		closeCtx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
		if err := d.rpc.Close(closeCtx); err != nil && !d.client.Exited() {
			r.log.Debug().Err(err).Str("destination", name).Msg("closing plugin")
		}
		cancel()
	}
	return errors.Join(errs...)
}

func (r *run) killAll() {
	for _, d := range r.dests {
		d.kill()
	}
}

// finish stamps the report, writes it, and returns it.
func (rr *RunReport) finish(opts Options, err error) *RunReport {
	status := report.StatusSuccess
	switch {
	case errors.Is(err, context.Canceled):
		status = report.StatusCancelled
	case err != nil:
		status = report.StatusFailed
	}
	rr.Finish(status, err, time.Now())
	if opts.ReportPath != "" {
		if werr := rr.WriteFile(opts.ReportPath); werr != nil {
			opts.Log.Error().Err(werr).Msg("writing run report")
		}
	}
	return rr
}

// WriteFile writes the run report (with per-destination detail) atomically.
func (rr *RunReport) WriteFile(path string) error { return report.WriteJSONFile(path, rr) }

func tableNameOf(sc *arrow.Schema) string {
	if v, ok := sc.Metadata().GetValue(cqschema.MetadataTableName); ok {
		return v
	}
	return "default"
}

func newRunID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Package destination writes Arrow records to Braze /users/track: rows become attribute objects
// (through package schema), objects become requests of at most 75, requests go out concurrently
// under the workspace rate limit, and every row ends delivered, skipped with a reason, or in the
// dead-letter file. The same Writer serves the CloudQuery plugin (client.go), the go-plugin
// boundary (package plugin/shared) and the Looker action hub.
package destination

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/schema"
)

// Writer turns records into requests. Write and DeleteStale must be called from one goroutine;
// the sending happens on Concurrency workers behind a bounded queue, so a slow Braze slows the
// reader down instead of filling memory.
type Writer struct {
	spec   *Spec
	api    *brazeapi.Client // nil in a dry run
	log    zerolog.Logger
	tally  *report.Tally
	dead   *deadLetter
	dry    *dryRun
	suffix []byte // members every object ends with: _update_existing_only and the export flag

	tables map[string]*tableState
	cur    *batch

	queue  chan *batch
	wg     sync.WaitGroup
	ctx    context.Context // the workers' context: ended by Abort
	cancel context.CancelFunc

	fatalMu sync.Mutex
	fatal   error
	closed  bool
}

// tableState is the resolved mapping of one table and its row counter.
type tableState struct {
	sc      *arrow.Schema
	mapping *schema.Mapping
	enc     *schema.Encoder
	rows    int64
}

// Option adjusts a Writer.
type Option func(*writerOptions)

type writerOptions struct {
	runID string
	http  *brazeapi.Options
}

// WithRunID names the run in the report.
func WithRunID(id string) Option { return func(o *writerOptions) { o.runID = id } }

// NewWriter builds a writer for a parsed spec. Unless dry_run is set it checks the key first with a
// request that changes no profile, so a wrong key or endpoint fails before any row is read.
func NewWriter(ctx context.Context, spec *Spec, log zerolog.Logger, opts ...Option) (*Writer, error) {
	var o writerOptions
	for _, fn := range opts {
		fn(&o)
	}
	w := &Writer{
		spec:   spec,
		log:    log,
		tally:  report.NewTally(o.runID, time.Now()),
		dead:   &deadLetter{path: spec.DeadLetterFile},
		tables: map[string]*tableState{},
		queue:  make(chan *batch, spec.Concurrency),
		suffix: objectSuffix(spec),
	}
	w.tally.Update(func(r *report.Report) { r.DryRun = spec.DryRun })
	if spec.DryRun {
		d, err := newDryRun(spec.DryRunFile)
		if err != nil {
			return nil, err
		}
		w.dry = d
	} else {
		api, err := brazeapi.New(brazeapi.Options{
			Endpoint:            spec.Endpoint,
			AllowCustomEndpoint: spec.AllowCustomEndpoint,
			APIKey:              spec.APIKey,
			RateLimit:           spec.RateLimit,
			RateWindow:          spec.rateWindow(),
			Retry:               retryPolicy(spec),
			Timeout:             spec.requestTimeout(),
		})
		if err != nil {
			return nil, errors.Join(errInvalidSpec, err)
		}
		if err := api.Preflight(ctx); err != nil {
			return nil, fmt.Errorf("checking the API key against %s: %w", api.Endpoint(), err)
		}
		w.api = api
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	for range spec.Concurrency {
		w.wg.Add(1)
		go w.work()
	}
	return w, nil
}

func retryPolicy(spec *Spec) brazeapi.RetryPolicy {
	p := brazeapi.DefaultRetryPolicy()
	p.MaxAttempts = spec.MaxAttempts
	return p
}

// objectSuffix renders the members shared by every object, once.
func objectSuffix(spec *Spec) []byte {
	b := []byte(`,"_update_existing_only":`)
	b = strconv.AppendBool(b, *spec.UpdateExistingOnly)
	if attr := *spec.ExportAttribute; attr != "" {
		b = append(b, ',')
		b = strconv.AppendQuote(b, attr)
		b = append(b, `:{"add":[`...)
		b = strconv.AppendQuote(b, spec.ExportValue)
		b = append(b, "]}"...)
	}
	return append(b, '}')
}

// Write converts one record and queues its rows. It returns the run's fatal error, if any, so the
// caller stops reading.
func (w *Writer) Write(ctx context.Context, rec arrow.Record) error {
	if err := w.fatalErr(); err != nil {
		return err
	}
	name := tableName(rec.Schema())
	t, err := w.table(name, rec.Schema())
	if err != nil {
		w.setFatal(err)
		return err
	}
	if err := t.enc.Reset(rec); err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	n := int(rec.NumRows())
	w.tally.Update(func(r *report.Report) { r.RowsRead += int64(n) })
	var skipped map[string]int64
	for i := 0; i < n; i++ {
		if reason := w.appendRow(ctx, name, t, i); reason != "" {
			if skipped == nil {
				skipped = map[string]int64{}
			}
			skipped[reason]++
		}
	}
	t.rows += int64(n)
	if len(skipped) > 0 {
		w.tally.Update(func(r *report.Report) {
			for k, v := range skipped {
				r.RowsSkipped[k] += v
			}
		})
	}
	return w.fatalErr()
}

// appendRow encodes row i into the current batch; it returns a skip reason, or "" when the row was
// queued or dead-lettered.
func (w *Writer) appendRow(ctx context.Context, table string, t *tableState, i int) string {
	b := w.batchFor(ctx, table)
	start := b.open()
	var res schema.RowResult
	b.body, res = t.enc.AppendRow(b.body, i)
	switch {
	case res.Skip != 0:
		b.rollback(start)
		return res.Skip.String()
	case res.Reject != nil:
		b.rollback(start)
		w.rejectRow(table, t.rows+int64(i), res)
		return ""
	}
	b.body = append(b.body, w.suffix...)
	if len(b.body)+2 > w.spec.MaxRequestBytes {
		w.overflow(ctx, table, b, start, t.rows+int64(i), res.Key)
		return ""
	}
	b.commit(start, res.Key, t.rows+int64(i), w.pointsPerObject(t))
	if b.len() >= w.spec.BatchSize {
		w.dispatch(ctx)
	}
	return ""
}

// overflow handles an object that would push its request past max_request_bytes: it moves to a
// request of its own, or, alone over the limit, is dead-lettered.
func (w *Writer) overflow(ctx context.Context, table string, b *batch, start int, row int64, key []byte) {
	obj := append([]byte(nil), b.body[start:]...)
	if b.len() > 0 {
		obj = obj[1:] // drop the separating comma
	}
	b.rollback(start)
	if len(bodyPrefix)+len(obj)+2 > w.spec.MaxRequestBytes {
		w.dead.write(deadLetterLine{Table: table, Row: row, Key: string(key), Reason: "object_too_large",
			Detail: fmt.Sprintf("object of %d bytes exceeds max_request_bytes %d", len(obj), w.spec.MaxRequestBytes), Object: obj})
		w.tally.Update(func(r *report.Report) { r.RowsRejected["object_too_large"]++ })
		return
	}
	w.dispatch(ctx)
	nb := w.batchFor(ctx, table)
	s := nb.open()
	nb.body = append(nb.body, obj[1:]...)
	nb.commit(s, key, row, 1)
}

func (w *Writer) pointsPerObject(t *tableState) int64 {
	n := int64(len(t.mapping.Attributes()))
	if *w.spec.ExportAttribute != "" {
		n++
	}
	return n
}

func (w *Writer) rejectRow(table string, row int64, res schema.RowResult) {
	fe := res.Reject
	w.dead.write(deadLetterLine{Table: table, Row: row, Key: string(res.Key), Reason: "invalid_value",
		Detail: fe.Error(), Column: fe.Column, Attribute: fe.Attribute})
	w.tally.Update(func(r *report.Report) { r.RowsRejected["invalid_value"]++ })
}

// batchFor returns the open batch, dispatching it first when it belongs to another table (each request
// carries one table's rows, so dead letters name their table).
func (w *Writer) batchFor(ctx context.Context, table string) *batch {
	if w.cur != nil && w.cur.table != table {
		w.dispatch(ctx)
	}
	if w.cur == nil {
		w.cur = newBatch(table)
	}
	return w.cur
}

// dispatch hands the open batch to the workers, blocking while the queue is full (back-pressure).
func (w *Writer) dispatch(ctx context.Context) {
	b := w.cur
	w.cur = nil
	if b == nil || b.len() == 0 {
		if b != nil {
			b.release()
		}
		return
	}
	select {
	case w.queue <- b:
	case <-ctx.Done():
		w.abandon(b, "run_cancelled", ctx.Err())
	case <-w.ctx.Done():
		w.abandon(b, "run_cancelled", w.ctx.Err())
	}
}

func (w *Writer) table(name string, sc *arrow.Schema) (*tableState, error) {
	if t, ok := w.tables[name]; ok && t.sc.Equal(sc) {
		return t, nil
	}
	m, err := schema.NewMapping(sc, w.spec.Config)
	if err != nil {
		return nil, fmt.Errorf("%w: table %s: %w", errMapping, name, err)
	}
	if attr := *w.spec.ExportAttribute; attr != "" {
		for _, a := range m.Attributes() {
			if a == attr {
				return nil, fmt.Errorf("%w: table %s: a column maps to %q, which is also export_attribute", errMapping, name, attr)
			}
		}
	}
	t := &tableState{sc: sc, mapping: m, enc: m.NewEncoder()}
	if old, ok := w.tables[name]; ok {
		t.rows = old.rows
	}
	w.tables[name] = t
	w.log.Info().Str("table", name).Str("key_column", m.KeyColumn()).Strs("attributes", m.Attributes()).Msg("mapped table")
	return t, nil
}

// Mappings returns the resolved mapping of every table seen so far.
func (w *Writer) Mappings() map[string]*schema.Mapping {
	out := make(map[string]*schema.Mapping, len(w.tables))
	for k, t := range w.tables {
		out[k] = t.mapping
	}
	return out
}

// DeleteStale is CloudQuery's end-of-table message in overwrite-delete-stale mode (its default).
// Removing the flag from users who left the query is the coming mirror mode; until then the message
// is accepted and noted, so the CLI's default write mode works.
func (w *Writer) DeleteStale(table string) {
	note := fmt.Sprintf("delete-stale for table %s ignored: mirror mode (removing %s from users who left the query) is not built yet",
		table, *w.spec.ExportAttribute)
	w.log.Warn().Str("table", table).Msg(note)
	w.tally.Update(func(r *report.Report) { r.Notes = append(r.Notes, note) })
}

// Progress is a snapshot of the report so far.
func (w *Writer) Progress() *report.Report { return w.tally.Snapshot(time.Now()) }

// Abort stops sending now: queued and in-flight requests end, their rows are dead-lettered as not sent.
func (w *Writer) Abort() { w.cancel() }

// Close sends what is left, waits for the workers and returns the final report. The returned error
// is the run's fatal error, if any; the report is complete either way.
func (w *Writer) Close(ctx context.Context) (*report.Report, error) {
	if w.closed {
		return w.Progress(), w.fatalErr()
	}
	w.closed = true
	w.dispatch(ctx)
	close(w.queue)
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		w.cancel() // deadline passed: abandon in-flight requests, their rows are dead-lettered
		<-done
	}
	w.cancel()
	errs := []error{w.fatalErr(), w.dead.close()}
	if w.dry != nil {
		errs = append(errs, w.dry.close())
	}
	rep := w.Progress()
	if rep.Rejected() > 0 {
		rep.DeadLetterFile = w.spec.DeadLetterFile
	}
	if w.dry != nil {
		rep.DryRunFile = w.spec.DryRunFile
	}
	if w.spec.MaxRejectedRows >= 0 && rep.Rejected() > w.spec.MaxRejectedRows {
		errs = append(errs, fmt.Errorf("%d rows rejected, more than max_rejected_rows %d", rep.Rejected(), w.spec.MaxRejectedRows))
	}
	return rep, errors.Join(errs...)
}

func (w *Writer) setFatal(err error) {
	w.fatalMu.Lock()
	if w.fatal == nil {
		w.fatal = err
	}
	w.fatalMu.Unlock()
}

func (w *Writer) fatalErr() error {
	w.fatalMu.Lock()
	defer w.fatalMu.Unlock()
	return w.fatal
}

func tableName(sc *arrow.Schema) string {
	if v, ok := sc.Metadata().GetValue(cqschema.MetadataTableName); ok && v != "" {
		return v
	}
	return "default"
}

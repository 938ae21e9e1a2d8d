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
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/schema"
)

// Writer turns records into requests. Write and DeleteStale must be called from one goroutine;
// the sending happens on Concurrency workers behind a bounded queue, so a slow Braze slows the
// reader down instead of filling memory. Memory is bounded by configuration: one open batch per
// table, the queue, the workers' batches and the in-flight key set; never by the size of the run.
type Writer struct {
	spec   *Spec
	api    *brazeapi.Client // nil in a dry run
	log    zerolog.Logger
	tally  *report.Tally
	dead   *deadLetter
	dry    *dryRun
	suffix []byte // members every object ends with: _update_existing_only, the export flag, '}'
	flight *inflight

	// The state (diff.go): nil store when the run keeps none (a dry run before any real one).
	store        State
	name         string // the destination's name: part of every namespace
	diffs        map[string]*tableDiff
	full         bool  // full_refresh: send everything, rewrite the state of every user sent
	refresh      int64 // refresh_after in seconds; 0: off
	now          int64 // Unix seconds, set per Write: what "older than refresh_after" is measured from
	clock        func() time.Time
	suffixNoFlag []byte // suffix without the export flag, for users who already have it
	members      []member
	diffed       []byte
	upd          []state.Attr
	// Counted per Write, then added to the report.
	unchanged, attrsUnchanged, pointsSaved int64

	mirror mirrorRun // DeleteStale messages, removed at Close (mirror.go)

	// started is the sync's start: the time of event rows that have none, and what the event
	// window is measured from; ledgers the event identities of each namespace (events.go).
	started time.Time
	ledgers map[string]*eventLedger

	tables map[string]*tableState
	open   map[string]*batch // the open request of each table: the merge window
	order  []string          // tables in first-seen order, so Close flushes deterministically
	obj    []byte            // scratch: the object being built
	key    []byte            // scratch: the user key of the row being placed
	merged []byte            // scratch: the result of a merge
	// nestedNulls counts the nulls the encoder left out of the rows of the record being written.
	nestedNulls int64

	queue  chan *batch
	wg     sync.WaitGroup
	ctx    context.Context // the workers' context: ended by Abort, a fatal error, or Close's deadline
	cancel context.CancelFunc
	drain  context.CancelFunc // Drain: no new request starts (drain.go)

	fatalMu sync.Mutex
	fatal   error
	aborted bool // Abort was called: the run is cancelled, not failed
	closed  bool
}

// tableState is the resolved mapping of one table and its row counter.
type tableState struct {
	sc      *arrow.Schema
	mapping *schema.Mapping
	enc     *schema.Encoder
	keyKind string // external_id, email, ...: part of the in-flight identity of a user
	rows    int64
	diff    *tableDiff  // nil when the run keeps no state
	ev      *eventTable // events or purchases (events.go): mapping, enc and diff are then unused
}

// Option adjusts a Writer.
type Option func(*writerOptions)

type writerOptions struct {
	runID string
	name  string
	retry *brazeapi.RetryPolicy
	http  *http.Client
	clock func() time.Time
}

// WithDestinationName names the destination (its name in the sync spec). The state keeps one
// namespace per destination, so two destinations of one spec never share what they told Braze.
// The default is the plugin's name, "braze".
func WithDestinationName(name string) Option { return func(o *writerOptions) { o.name = name } }

// WithClock sets the clock the state's times come from (refresh_after tests).
func WithClock(now func() time.Time) Option { return func(o *writerOptions) { o.clock = now } }

// WithRunID names the run in the report.
func WithRunID(id string) Option { return func(o *writerOptions) { o.runID = id } }

// WithRetryPolicy replaces the retry policy built from the spec (max_attempts, 250 ms to 20 s).
// Tests use it to retry in milliseconds.
func WithRetryPolicy(p brazeapi.RetryPolicy) Option {
	return func(o *writerOptions) { o.retry = &p }
}

// WithHTTPClient sets the HTTP client (its redirect policy is replaced: redirects are never followed).
func WithHTTPClient(c *http.Client) Option { return func(o *writerOptions) { o.http = c } }

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
		open:   map[string]*batch{},
		queue:  make(chan *batch, spec.Concurrency),
		suffix: objectSuffix(spec),
		flight: newInflight(),
		diffs:  map[string]*tableDiff{},
		name:   o.name,
		full:   spec.FullRefresh,
		clock:  o.clock,
	}
	if w.name == "" {
		w.name = Name
	}
	if w.clock == nil {
		w.clock = time.Now
	}
	w.started = w.clock()
	w.refresh = int64(spec.refreshAfter().Seconds())
	w.suffixNoFlag = objectSuffix(&Spec{UpdateExistingOnly: spec.UpdateExistingOnly, ExportAttribute: new(string)})
	w.tally.Update(func(r *report.Report) {
		r.DryRun = spec.DryRun
		if *spec.Diff {
			r.StateDir = spec.StateDir
		}
	})
	// The state opens first: a folder held by another run or damaged fails before any request.
	if err := w.openState(o.runID); err != nil {
		return nil, err
	}
	if spec.DryRun {
		d, err := newDryRun(spec.DryRunFile)
		if err != nil {
			w.closeState()
			return nil, err
		}
		w.dry = d
	} else {
		retry := retryPolicy(spec)
		if o.retry != nil {
			retry = *o.retry
		}
		api, err := brazeapi.New(brazeapi.Options{
			Endpoint:            spec.Endpoint,
			AllowCustomEndpoint: spec.AllowCustomEndpoint,
			APIKey:              spec.APIKey,
			RateLimit:           spec.RateLimit,
			RateWindow:          spec.rateWindow(),
			Retry:               retry,
			Timeout:             spec.requestTimeout(),
			HTTPClient:          o.http,
			MaxConns:            spec.Concurrency,
		})
		if err != nil {
			w.closeState()
			return nil, errors.Join(errInvalidSpec, err)
		}
		if err := api.Preflight(ctx); err != nil {
			w.closeState()
			return nil, fmt.Errorf("checking the API key against %s: %w", api.Endpoint(), err)
		}
		w.api = api
	}
	w.ctx, w.cancel, w.drain = workContext()
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
// caller stops reading; rows it could not queue are already dead-lettered.
func (w *Writer) Write(ctx context.Context, rec arrow.Record) error {
	if err := w.fatalErr(); err != nil {
		return err
	}
	if w.closed {
		return errors.New("write after Close")
	}
	name := tableName(rec.Schema())
	t, err := w.table(ctx, name, rec.Schema())
	if err != nil {
		w.setFatal(err)
		return err
	}
	if t.ev != nil {
		return w.writeEvents(ctx, name, t, rec) // events.go
	}
	if err := t.enc.Reset(rec); err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	n := int(rec.NumRows())
	w.tally.Update(func(r *report.Report) { r.RowsRead += int64(n) })
	w.now = w.clock().Unix()
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
	if nulls := w.nestedNulls; nulls > 0 {
		w.nestedNulls = 0
		w.tally.Update(func(r *report.Report) { r.NestedNullsDropped += nulls })
	}
	w.tallyDiff()
	if err := w.fatalErr(); err != nil {
		return err
	}
	return ctx.Err()
}

// tallyDiff adds the diff's counts of the record just written to the report.
func (w *Writer) tallyDiff() {
	if w.unchanged == 0 && w.attrsUnchanged == 0 && w.pointsSaved == 0 {
		return
	}
	u, a, p := w.unchanged, w.attrsUnchanged, w.pointsSaved
	w.unchanged, w.attrsUnchanged, w.pointsSaved = 0, 0, 0
	w.tally.Update(func(r *report.Report) {
		r.RowsUnchanged += u
		r.AttributesUnchanged += a
		r.DataPointsSaved += p
	})
}

// appendRow encodes row i and places it; it returns a skip reason, or "" when the row was queued,
// merged or dead-lettered.
func (w *Writer) appendRow(ctx context.Context, table string, t *tableState, i int) string {
	row := t.rows + int64(i)
	var res schema.RowResult
	w.obj, res = t.enc.AppendRow(append(w.obj[:0], '{'), i)
	switch {
	case res.Skip != 0:
		return res.Skip.String()
	case res.Reject != nil:
		w.rejectRow(table, row, res)
		if t.diff != nil && len(res.Key) > 0 {
			// The user is in the source all the same: a lookup marks it seen in this run, so that
			// mirror mode does not take a user whose row was refused for one who left the query.
			if _, err := t.diff.lookup(res.Key); err != nil {
				w.setFatal(err)
			}
		}
		return ""
	}
	w.nestedNulls += int64(res.NullsDropped)
	key := makeUserKey(w.key, t.keyKind, res.Key)
	w.key = key.text
	if t.diff == nil {
		w.obj = append(w.obj, w.suffix...)
		w.place(ctx, table, key, w.obj, row, int64(res.Attributes)+w.exportPoints(), rowUpdate{})
		return ""
	}
	obj, u, points, keep, err := w.diffRow(t.diff, key, res.Key)
	switch {
	case err != nil:
		// The state cannot be read: nothing more can be diffed, so the run stops (and this row,
		// not sent, is dead-lettered with the others left).
		w.setFatal(err)
		w.deadLetter(ReasonRunFailed, DeadLetterLine{Table: table, Row: row, Key: string(res.Key), Reason: ReasonRunFailed,
			Detail: "the state could not be read"})
	case !keep:
		w.unchanged++
	default:
		w.place(ctx, table, key, obj, row, points, u)
	}
	return ""
}

// place puts one object into its table's open request: merged into the object of the same user if
// the request has one (see merge.go), else appended. A full request is dispatched. u is what the
// object will commit to the state once accepted (zero when the run keeps no state).
func (w *Writer) place(ctx context.Context, table string, key userKey, obj []byte, row, points int64, u rowUpdate) {
	b := w.batchFor(table)
	if i, same := b.find(key); same {
		old := b.object(i)
		merged, members, err := mergeObject(w.merged[:0], old, obj)
		w.merged = merged
		if err == nil && b.size+len(merged)-len(old) <= w.spec.MaxRequestBytes {
			b.replace(i, merged, row, int64(members)-2, u.attrs, u.flag) // minus the identifier and _update_existing_only
			if u.d != nil {
				u.d.placed(key, u, false) // the object already carries the entry
			}
			return
		}
		// Too large merged (or not mergeable): send the request as it is; this row goes into a later
		// one, which waits for this user's request to end.
		w.dispatch(ctx, table)
		b = w.batchFor(table)
	}
	if len(bodyPrefix)+len(obj)+len(bodySuffix) > w.spec.MaxRequestBytes {
		line := DeadLetterLine{Table: table, Row: row, Key: userOf(string(key.text)), Reason: ReasonTooLarge,
			Detail: fmt.Sprintf("object of %d bytes exceeds max_request_bytes %d", len(obj), w.spec.MaxRequestBytes)}
		w.deadLetter(ReasonTooLarge, line)
		return
	}
	for b.sizeWith(obj) > w.spec.MaxRequestBytes || b.holds(key) {
		w.dispatch(ctx, table)
		b = w.batchFor(table)
	}
	b.add(key, obj, row, nil, points, u.attrs, u.flag)
	if u.d != nil {
		e := &b.entries[b.len()-1]
		e.absent, e.pend = u.absent, u.d.placed(key, u, true)
	}
	if b.len() >= w.spec.BatchSize {
		w.dispatch(ctx, table)
	}
}

// exportPoints is the data point the export flag costs on each object.
func (w *Writer) exportPoints() int64 {
	if *w.spec.ExportAttribute != "" {
		return 1
	}
	return 0
}

func (w *Writer) rejectRow(table string, row int64, res schema.RowResult) {
	fe := res.Reject
	// The encoder stops at the first bad value and keeps no partial object, so the line names the
	// column, the attribute and the reason (never the value: PII stays out of logs and files).
	reason := fe.Code // invalid_value, invalid_key or unreadable_row
	if reason == "" {
		reason = ReasonInvalidValue
	}
	w.deadLetter(reason, DeadLetterLine{Table: table, Row: row, Key: string(res.Key),
		Reason: reason, Detail: fe.Reason, Column: fe.Column, Attribute: fe.Attribute})
}

// batchFor returns the open request of a table, starting one if needed.
func (w *Writer) batchFor(table string) *batch {
	b := w.open[table]
	if b == nil {
		t := w.tables[table]
		b = newBatch(table, t.diff)
		b.ev = t.ev
		w.open[table] = b
	}
	return b
}

// dispatch sends the objects of a table's open request whose users are not in flight; the others
// stay in the open request, to go out once their user's request ends. It sends at least one object,
// waiting for a request to end if every user in the batch is in flight, so each call makes progress.
// It blocks while the queue is full (back-pressure).
func (w *Writer) dispatch(ctx context.Context, table string) {
	b := w.open[table]
	delete(w.open, table)
	for b != nil && b.len() > 0 {
		rest, changed := w.flight.claim(b)
		if b.len() > 0 {
			w.enqueue(ctx, b)
			if rest != nil {
				w.open[table] = rest
			}
			return
		}
		b.release()
		b = rest
		if err := wait(ctx, w.ctx, changed); err != nil {
			w.abandon(b, err)
			return
		}
	}
	if b != nil {
		b.release()
	}
}

// enqueue hands a claimed batch to the workers.
func (w *Writer) enqueue(ctx context.Context, b *batch) {
	select {
	case w.queue <- b:
	case <-ctx.Done():
		w.flight.release(b)
		w.abandon(b, ctx.Err())
	case <-w.ctx.Done():
		w.flight.release(b)
		w.abandon(b, w.ctx.Err())
	}
}

func (w *Writer) table(ctx context.Context, name string, sc *arrow.Schema) (*tableState, error) {
	if t, ok := w.tables[name]; ok && t.sc.Equal(sc) {
		return t, nil
	}
	if events, err := w.sendsEvents(name, sc); err != nil {
		return nil, err
	} else if events {
		return w.eventTable(ctx, name, sc) // events.go
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
	t := &tableState{sc: sc, mapping: m, enc: m.NewEncoder(), keyKind: m.UserKey()}
	if t.diff, err = w.diffFor(ctx, name, t.keyKind); err != nil {
		return nil, err
	}
	if old, ok := w.tables[name]; ok {
		t.rows = old.rows
		if old.diff != t.diff && w.open[name] != nil {
			w.dispatch(ctx, name) // the open request belongs to the old key kind's namespace
		}
	} else {
		w.order = append(w.order, name)
	}
	w.tables[name] = t
	w.log.Info().Str("table", name).Str("key_column", m.KeyColumn()).Strs("attributes", m.Attributes()).Msg("mapped table")
	return t, nil
}

// Mappings returns the resolved mapping of every table seen so far.
func (w *Writer) Mappings() map[string]*schema.Mapping {
	out := make(map[string]*schema.Mapping, len(w.tables))
	for k, t := range w.tables {
		if t.mapping != nil { // attribute tables: event tables have an EventMapping
			out[k] = t.mapping
		}
	}
	return out
}

// Progress is a snapshot of the report so far.
func (w *Writer) Progress() *report.Report { return w.tally.Snapshot(time.Now()) }

// Abort stops sending now: queued and in-flight requests end, and their rows are dead-lettered as
// run_cancelled. Close must still be called; it then returns context.Canceled.
func (w *Writer) Abort() {
	w.fatalMu.Lock()
	w.aborted = true
	w.fatalMu.Unlock()
	w.cancel()
}

// Close sends what is left, waits for the workers and returns the final report. When ctx ends first
// (a shutdown deadline), in-flight requests are abandoned and their rows dead-lettered, so the report
// is complete and balanced either way. The error is, in this order of precedence: the run's fatal
// error (auth, unreachable, mapping); context.Canceled after Abort; ErrTooManyRejected when
// rejections exceed max_rejected_rows or max_rejected_ratio; a dead-letter or dry-run file error.
func (w *Writer) Close(ctx context.Context) (*report.Report, error) {
	if w.closed {
		return w.Progress(), w.fatalErr()
	}
	w.closed = true
	for _, t := range w.order {
		for w.open[t] != nil {
			w.dispatch(ctx, t)
		}
	}
	close(w.queue)
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		w.cancel() // deadline passed: abandon in-flight requests, their rows are dead-lettered
		<-done
	}
	w.mirrorPhase(ctx) // every attribute request answered: the removals of tables that ended (mirror.go)
	w.cancel()
	fileErrs := []error{w.dead.close()}
	fileErrs = append(fileErrs, w.settleHeld(fileErrs[0] == nil)) // events.go: after their lines are in the file
	if w.dry != nil {
		fileErrs = append(fileErrs, w.dry.close())
	}
	if w.store != nil {
		size := w.store.DiskBytes()
		w.tally.Update(func(r *report.Report) { r.StateBytes = size })
	}
	fileErrs = append(fileErrs, w.closeState())
	rep := w.Progress()
	if rep.Rejected() > 0 || rep.RemovalsRejectedTotal() > 0 {
		rep.DeadLetterFile = w.spec.DeadLetterFile
	}
	if w.dry != nil {
		rep.DryRunFile = w.spec.DryRunFile
	}
	return rep, errors.Join(w.outcome(rep), w.mirrorErr(), errors.Join(fileErrs...))
}

// outcome is the run's verdict for Close.
func (w *Writer) outcome(rep *report.Report) error {
	w.fatalMu.Lock()
	fatal, aborted := w.fatal, w.aborted
	w.fatalMu.Unlock()
	switch {
	case fatal != nil:
		return fatal
	case aborted:
		return fmt.Errorf("run aborted: %w", context.Canceled)
	}
	return w.spec.checkRejections(rep)
}

// setFatal records the error that ends the run and stops every request: after a refused key or an
// unreachable endpoint no later request can succeed, so in-flight ones are abandoned at once.
func (w *Writer) setFatal(err error) {
	w.fatalMu.Lock()
	if w.fatal == nil {
		w.fatal = err
	}
	w.fatalMu.Unlock()
	if w.cancel != nil {
		w.cancel()
	}
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

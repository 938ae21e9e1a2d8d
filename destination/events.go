package destination

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/schema"
)

// Event and purchase tables (docs/events.md): one custom event or purchase per row, each sent once.
//
// Each row has an identity (schema.EventID). The state (state.Events) holds the identities of the
// namespace: an identity is written pending, durably, before the request carrying its object goes
// out, then sent, forgotten (Braze certainly did not record it) or ambiguous once the answer is
// known. So a row is not sent when its identity is held — sent, ambiguous, or on the wire in this
// run — nor when it is older than event_window; and a row whose identity an earlier run left
// pending (it died with the request on the wire) may already be in Braze: under dead_letter it is
// dead-lettered as braze_may_have_recorded, under retry it is sent again.
//
// Events need no same-user ordering and are never merged: each object's key in a batch and in the
// in-flight set is its identity, not its user.

// Skip reasons of event rows (the report's rows_skipped).
const (
	reasonAlreadySent   = "event_already_sent"   // the identity is held: sent, possibly recorded, or already in this run
	reasonOutsideWindow = "event_outside_window" // older than event_window: whether it was sent can no longer be told
)

// eventTable is one events or purchases table of the run.
type eventTable struct {
	mapping *schema.EventMapping
	enc     *schema.EventEncoder
	array   string // "events" or "purchases": the request's array, and errors[].input_array
	prefix  string // the request body's opening, {"events":[
	suffix  []byte // members every object ends with: _update_existing_only, '}'
	led     *eventLedger
}

// eventLedger is the identities of one namespace during the run, shared by the table's mappings
// should its schema change mid-run.
type eventLedger struct {
	log state.Events // nil when there is no state to read yet (a dry run before any real run)

	mu     sync.Mutex
	placed map[state.EventID]struct{} // placed in this run and not yet answered (bounded by the queue)
	// held are the identities dead-lettered as braze_may_have_recorded, marked ambiguous only once
	// the dead-letter file is closed (settleHeld): until then they stay pending, so a run killed
	// before its lines reach the file leaves them for the next run to dead-letter again.
	held []state.EventMark
}

// sendsEvents decides whether a table's rows are events or purchases (schema.TableKind). Event
// settings on a table whose columns make it attributes are an error, not silently unused.
func (w *Writer) sendsEvents(name string, sc *arrow.Schema) (bool, error) {
	cfg := w.spec.tableConfig(name)
	kind, err := schema.TableKind(sc, cfg)
	if err != nil {
		return false, fmt.Errorf("%w: table %s: %w", errMapping, name, err)
	}
	if kind == schema.KindAttributes {
		if set := cfg.EventSettings(); len(set) > 0 {
			return false, fmt.Errorf("%w: table %s: tables.%s sets %v, but its kind is attributes: set kind: events or purchases",
				errMapping, name, name, set)
		}
		return false, nil
	}
	return true, nil
}

// eventTable maps a table to events or purchases and registers it, as table does for attributes.
func (w *Writer) eventTable(ctx context.Context, name string, sc *arrow.Schema) (*tableState, error) {
	m, err := schema.NewEventMapping(sc, w.spec.Config, w.spec.tableConfig(name))
	if err != nil {
		return nil, fmt.Errorf("%w: table %s: %w", errMapping, name, err)
	}
	led, err := w.ledgerFor(ctx, name, m.UserKey())
	if err != nil {
		return nil, err
	}
	ev := &eventTable{mapping: m, enc: m.NewEncoder(w.started), array: m.Kind(), prefix: `{"` + m.Kind() + `":[`,
		suffix: eventSuffix(w.spec), led: led}
	t := &tableState{sc: sc, keyKind: m.UserKey(), ev: ev}
	if old, ok := w.tables[name]; ok {
		t.rows = old.rows
		if w.open[name] != nil {
			w.dispatch(ctx, name) // the open request was built with the old mapping
		}
	} else {
		w.order = append(w.order, name)
	}
	w.tables[name] = t
	w.log.Info().Str("table", name).Str("kind", m.Kind()).Str("key_column", m.KeyColumn()).
		Strs("properties", m.Properties()).Bool("id_column", m.HasIDColumn()).Msg("mapped table")
	return t, nil
}

// eventStore is a state that keeps event identities (both backends do).
type eventStore interface {
	Events(ctx context.Context, ns state.Namespace) (state.Events, error)
}

// eventSuffix renders the members every event or purchase ends with. The export flag is an
// attribute: it is not sent with them.
func eventSuffix(spec *Spec) []byte {
	b := strconv.AppendBool([]byte(`,"_update_existing_only":`), *spec.UpdateExistingOnly)
	return append(b, '}')
}

// ledgerFor opens the identities of a table's namespace. Events are sent once only with a state
// that survives the run: without one (diff: false) an event table is refused before anything is
// sent. Both backends keep identities; the warehouse's writes each pending one to Snowflake before
// its request goes out.
func (w *Writer) ledgerFor(ctx context.Context, table, keyKind string) (*eventLedger, error) {
	id := table + "\x00" + keyKind
	if led, ok := w.ledgers[id]; ok {
		return led, nil
	}
	if !*w.spec.Diff {
		return nil, fmt.Errorf("%w: table %s sends %s, which are sent once only with the sync state: diff is false",
			errMapping, table, w.spec.tableConfig(table).Kind)
	}
	led := &eventLedger{placed: map[state.EventID]struct{}{}}
	if st, ok := w.store.(eventStore); ok { // nil: a dry run before any real run, which holds no identity
		ns := state.Namespace{Destination: w.name, Endpoint: endpointHost(w.spec.Endpoint), Table: table, KeyKind: keyKind}
		evs, err := st.Events(ctx, ns)
		switch {
		case errors.Is(err, state.ErrNoState): // dry run: a namespace no run has committed to
		case err != nil:
			return nil, fmt.Errorf("opening the event identities of table %s: %w", table, err)
		default:
			led.log = evs
		}
	}
	if w.ledgers == nil {
		w.ledgers = map[string]*eventLedger{}
	}
	w.ledgers[id] = led
	return led, nil
}

// writeEvents converts one record of an event table and queues its rows, as Write does for
// attributes.
func (w *Writer) writeEvents(ctx context.Context, name string, t *tableState, rec arrow.Record) error {
	if err := t.ev.enc.Reset(rec); err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	n := int(rec.NumRows())
	w.tally.Update(func(r *report.Report) { r.RowsRead += int64(n) })
	skipped := map[string]int64{}
	for i := 0; i < n; i++ {
		if reason := w.appendEvent(ctx, name, t, i); reason != "" {
			skipped[reason]++
		}
	}
	t.rows += int64(n)
	nulls := w.nestedNulls
	w.nestedNulls = 0
	w.tally.Update(func(r *report.Report) {
		for k, v := range skipped {
			r.RowsSkipped[k] += v
		}
		r.NestedNullsDropped += nulls
	})
	if err := w.fatalErr(); err != nil {
		return err
	}
	return ctx.Err()
}

// appendEvent encodes row i and places it; it returns a skip reason, or "" when the row was queued
// or dead-lettered.
func (w *Writer) appendEvent(ctx context.Context, table string, t *tableState, i int) string {
	ev, row := t.ev, t.rows+int64(i)
	var res schema.EventResult
	w.obj, res = ev.enc.AppendRow(append(w.obj[:0], '{'), i)
	switch {
	case res.Skip != schema.SkipNone:
		return res.Skip.String()
	case res.Reject != nil:
		w.rejectRow(table, row, res.RowResult)
		return ""
	}
	w.nestedNulls += int64(res.NullsDropped)
	if w.spec.outsideWindow(res.Time, w.started) {
		return reasonOutsideWindow
	}
	w.obj = append(w.obj, ev.suffix...)
	status, err := ev.led.status(res.ID)
	switch {
	case err != nil:
		w.setFatal(err)
		w.deadLetter(ReasonRunFailed, DeadLetterLine{Table: table, Row: row, Key: string(res.Key), Reason: ReasonRunFailed,
			Detail: "the state could not be read", InputArray: ev.array, Object: w.obj})
		return ""
	case status == state.EventInterrupted && w.spec.OnAmbiguousFailure == AmbiguousDeadLetter:
		w.deadLetter(ReasonMayHaveRecorded, DeadLetterLine{Table: table, Row: row, Key: string(res.Key), Reason: ReasonMayHaveRecorded,
			Detail: "its request was on the wire when an earlier run stopped: Braze may have recorded it", InputArray: ev.array, Object: w.obj})
		ev.led.place(res.ID) // a second row with this identity in this run is skipped
		ev.led.hold(state.EventMark{ID: state.EventID(res.ID), Status: state.EventAmbiguous, Expires: w.spec.identityExpiry(res.Time)})
		w.tally.Update(func(r *report.Report) { r.AmbiguousRows++ })
		return ""
	case status != state.EventUnknown && status != state.EventInterrupted: // interrupted under retry: sent again
		return reasonAlreadySent
	}
	key := makeUserKey(w.key, eventKeyKind(state.EventID(res.ID), w.spec.identityExpiry(res.Time)), res.Key)
	w.key = key.text
	ev.led.place(res.ID)
	w.placeEvent(ctx, table, key, w.obj, row, 1+int64(res.Properties))
	return ""
}

// placeEvent puts one event or purchase into its table's open request, as place does for
// attributes, but never merging: each object is its own event.
func (w *Writer) placeEvent(ctx context.Context, table string, key userKey, obj []byte, row, points int64) {
	if len(bodyPrefix)+len(obj)+len(bodySuffix) > w.spec.MaxRequestBytes {
		ev := w.tables[table].ev
		w.deadLetter(ReasonTooLarge, DeadLetterLine{Table: table, Row: row, Key: userOf(string(key.text)), Reason: ReasonTooLarge,
			Detail:     fmt.Sprintf("object of %d bytes exceeds max_request_bytes %d", len(obj), w.spec.MaxRequestBytes),
			InputArray: ev.array, Object: obj})
		id, _ := eventOfKey(key.text)
		ev.led.done(id)
		return
	}
	b := w.batchFor(table)
	for b.sizeWith(obj) > w.spec.MaxRequestBytes || b.holds(key) { // holds: only for a hash collision
		w.dispatch(ctx, table)
		b = w.batchFor(table)
	}
	b.add(key, obj, row, nil, points, nil, false)
	if b.len() >= w.spec.BatchSize {
		w.dispatch(ctx, table)
	}
}

// eventKeyKind is the "kind" part of an event's key: its identity and expiry in hex (no NUL, so
// that userOf still finds the user key after it). The in-flight set and the batch index hash it.
func eventKeyKind(id state.EventID, expires int64) string {
	var b [state.EventIDSize + 8]byte
	copy(b[:], id[:])
	binary.BigEndian.PutUint64(b[state.EventIDSize:], uint64(expires))
	return "e" + hex.EncodeToString(b[:])
}

// eventOfKey reads back the identity and expiry eventKeyKind put in a key.
func eventOfKey(key []byte) (state.EventID, int64) {
	var id state.EventID
	var b [state.EventIDSize + 8]byte
	if len(key) >= 1+2*len(b) {
		_, _ = hex.Decode(b[:], key[1:1+2*len(b)])
	}
	copy(id[:], b[:state.EventIDSize])
	return id, int64(binary.BigEndian.Uint64(b[state.EventIDSize:]))
}

// status says what is known of an identity: placed in this run, else what the state holds.
func (l *eventLedger) status(id schema.EventID) (state.EventStatus, error) {
	l.mu.Lock()
	_, placed := l.placed[state.EventID(id)]
	l.mu.Unlock()
	if placed {
		return state.EventPending, nil
	}
	if l.log == nil {
		return state.EventUnknown, nil
	}
	return l.log.LookupEvent(state.EventID(id))
}

func (l *eventLedger) place(id schema.EventID) {
	l.mu.Lock()
	l.placed[state.EventID(id)] = struct{}{}
	l.mu.Unlock()
}

func (l *eventLedger) done(id state.EventID) {
	l.mu.Lock()
	delete(l.placed, id)
	l.mu.Unlock()
}

func (l *eventLedger) hold(marks ...state.EventMark) {
	l.mu.Lock()
	l.held = append(l.held, marks...)
	l.mu.Unlock()
}

// settleHeld marks the identities dead-lettered as possibly recorded as ambiguous, once the
// dead-letter file holding their lines is closed (deadLetterOK): from then on no run dead-letters
// them again. Close calls it after the workers ended.
func (w *Writer) settleHeld(deadLetterOK bool) error {
	if !deadLetterOK || w.dry != nil {
		return nil
	}
	var errs []error
	for _, l := range w.ledgers {
		if len(l.held) == 0 || l.log == nil {
			continue
		}
		if err := l.log.MarkEvents(context.Background(), l.held); err != nil {
			errs = append(errs, fmt.Errorf("recording possibly recorded events in the state: %w", err))
		}
		l.held = nil
	}
	return errors.Join(errs...)
}

// mark records every identity of b with status (EventUnknown forgets them), durably. Marks are
// written even while the run stops: they are what the next run knows.
func (w *Writer) mark(b *batch, status func(i int) state.EventStatus) error {
	marks := make([]state.EventMark, b.len())
	for i := range b.entries {
		id, expires := eventOfKey(b.keyText(i))
		marks[i] = state.EventMark{ID: id, Status: status(i), Expires: expires}
	}
	return b.ev.led.log.MarkEvents(context.Background(), marks)
}

func all(s state.EventStatus) func(int) state.EventStatus {
	return func(int) state.EventStatus { return s }
}

// sendEvents sends one request of events or purchases and settles its identities by the outcome.
func (w *Writer) sendEvents(b *batch, body []byte) {
	if b.ev.led.log == nil {
		w.deadLetterAll(b, ReasonRunFailed, "no state to record the events in", 0, nil)
		return
	}
	// Pending first: a run killed from here on leaves these identities for the next run to find.
	if err := w.mark(b, all(state.EventPending)); err != nil {
		w.setFatal(fmt.Errorf("recording events in the state before sending them: %w", err))
		w.deadLetterAll(b, ReasonRunFailed, "the state could not record the events before sending them", 0, nil)
		return
	}
	res, err := w.api.TrackEvents(w.ctx, body, w.spec.ambiguousPolicy())
	w.countAttempts(res.Result)
	switch {
	case err == nil:
		w.acceptEvents(b, res)
	case errors.Is(err, brazeapi.ErrAmbiguous):
		w.ambiguousEvents(b, res, err)
	default:
		// Braze recorded none of them (a 4xx, a refused connection, nothing sent): forgotten, so a
		// later run sends them.
		if merr := w.mark(b, all(state.EventUnknown)); merr != nil {
			w.setFatal(fmt.Errorf("recording Braze's answer in the state: %w", merr))
		}
		w.failBatch(b, res.Result, err)
	}
}

// acceptEvents counts a successful request: objects listed in errors[] (by input_array and index)
// were not recorded and are forgotten and dead-lettered; the others are sent.
func (w *Writer) acceptEvents(b *batch, res brazeapi.EventResult) {
	failed, minor := objectErrors(b, res.Errors)
	err := w.mark(b, func(i int) state.EventStatus {
		if failed[i] != "" {
			return state.EventUnknown
		}
		return state.EventSent
	})
	if err != nil {
		// The identities stay pending: the next run finds them interrupted, and under dead_letter
		// never sends them twice. Going on would leave more of them so; the run stops here.
		w.setFatal(fmt.Errorf("recording Braze's answer in the state: %w", err))
	}
	var sent, points, nFailed int64
	for i := range b.entries {
		if failed[i] != "" {
			nFailed++
			w.deadLetterEntry(b, i, ReasonMinorError, failed[i], res.Status)
			continue
		}
		sent++
		points += b.entries[i].points
	}
	w.tally.Update(func(r *report.Report) {
		if b.ev.array == schema.KindPurchases {
			r.PurchasesSent += sent
		} else {
			r.EventsSent += sent
		}
		r.EstimatedDataPoints += points
		if nFailed > 0 {
			r.RowsRejected[ReasonMinorError] += nFailed
		}
		for k, v := range minor {
			r.MinorErrors[k] += v
		}
		if res.Ambiguous > 0 { // on_ambiguous_failure: retry sent them again: possibly recorded twice
			r.AmbiguousRequests++
			r.AmbiguousRows += int64(b.len())
		}
	})
}

// ambiguousEvents settles a request Braze may have recorded: under dead_letter its identities stay
// held (no run sends them again: pending now, ambiguous once the dead-letter file is closed) and
// its rows are dead-lettered to be checked and replayed; under retry, which gave up, they are
// forgotten, so the next run sends them again (at least once).
func (w *Writer) ambiguousEvents(b *batch, res brazeapi.EventResult, err error) {
	if w.spec.OnAmbiguousFailure == AmbiguousRetry {
		if merr := w.mark(b, all(state.EventUnknown)); merr != nil {
			w.setFatal(fmt.Errorf("recording Braze's answer in the state: %w", merr))
		}
	} else {
		for i := range b.entries {
			id, expires := eventOfKey(b.keyText(i))
			b.ev.led.hold(state.EventMark{ID: id, Status: state.EventAmbiguous, Expires: expires})
		}
	}
	if brazeapi.Fatal(err) || errors.Is(err, brazeapi.ErrUnreachable) {
		w.setFatal(err)
	}
	w.deadLetterAll(b, ReasonMayHaveRecorded, err.Error(), res.Status, res.Errors)
	w.tally.Update(func(r *report.Report) {
		r.AmbiguousRequests++
		r.AmbiguousRows += int64(b.len())
	})
}

// eventsAnswered ends what the run placed of b: its identities are in the state from here on.
func (w *Writer) eventsAnswered(b *batch) {
	if b.ev == nil {
		return
	}
	for i := range b.entries {
		id, _ := eventOfKey(b.keyText(i))
		b.ev.led.done(id)
	}
}

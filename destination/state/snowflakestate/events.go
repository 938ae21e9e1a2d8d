package snowflakestate

import (
	"context"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/brazesync/brazesync/destination/state"
)

// Event identities in the warehouse (docs/events.md, docs/state-snowflake.md). BRAZESYNC_EVENTS
// holds one row per identity and version:
//
//	STATUS 1              pending: written by RUN_ID before the request carrying its object went out
//	STATUS 2 / 3          sent / ambiguous (Braze accepted it / may have recorded it)
//	STATUS 0              forgotten (Braze certainly did not record it)
//
// VERSION 0 rows are written during a run; the upload at its end copies the outcomes among them
// into the run's version, and once that version is committed deletes the VERSION 0 rows it
// settles. A pending row must reach the warehouse before its request does: a run that dies on a
// machine whose disk goes with it leaves only the warehouse to say the event may be in Braze. So
// MarkEvents inserts pending rows first and returns only then; outcomes go to the local copy at
// once and to the warehouse every settleFlushEvery. A later run, from any machine, reads the
// VERSION 0 rows no version settles: an identity with an outcome row has it, one with only its
// pending row is interrupted — so the rows on the wire when a run died, or answered in its last
// settleFlushEvery, are never sent twice. Nothing of the run's identities is held in memory
// beyond one settleFlushEvery.
const (
	eventForgotten = 0
	eventPending   = 1
	eventSent      = 2
	eventAmbiguous = 3
)

const eventsDDL = `CREATE TABLE IF NOT EXISTS %s (
  NS VARCHAR(16) NOT NULL,
  EVENT_ID VARCHAR(32) NOT NULL,
  STATUS NUMBER(1,0) NOT NULL,
  EXPIRES_AT NUMBER(19,0) NOT NULL,
  RUN_ID VARCHAR,
  VERSION NUMBER(19,0) NOT NULL,
  PRIMARY KEY (NS, EVENT_ID, VERSION))`

// eventMarks are the outcomes settled since the last flush, as VERSION 0 rows to insert.
type eventMarks struct {
	mu        sync.Mutex
	unflushed eventBatch
}

// settleFlushEvery is how often the marks settled since the last flush reach the warehouse during
// a run: what a killed run on a machine that keeps no disk heard in its last such spell is
// dead-lettered by the next run as possibly recorded, instead of known sent. A variable so that
// tests need not wait.
var settleFlushEvery = 5 * time.Second

// note queues the outcomes among marks for the next flush.
func (m *eventMarks) note(ns string, marks []state.EventMark) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mk := range marks {
		if mk.Status != state.EventPending {
			m.unflushed.add(ns, mk, warehouseStatus(mk.Status), "")
		}
	}
}

// takeUnflushed returns the marks settled since the last call.
func (m *eventMarks) takeUnflushed() eventBatch {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.unflushed
	m.unflushed = eventBatch{}
	return b
}

// putBack returns rows a failed flush took, ahead of those noted since, for the next flush.
func (m *eventMarks) putBack(b eventBatch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b.addBatch(m.unflushed)
	m.unflushed = b
}

// warehouseStatus is the STATUS of a settled mark.
func warehouseStatus(st state.EventStatus) int64 {
	switch st {
	case state.EventSent:
		return eventSent
	case state.EventAmbiguous:
		return eventAmbiguous
	}
	return eventForgotten
}

// eventBatch is VERSION 0 event rows in column arrays, for one array-bound INSERT (a version's rows
// are copied from them in SQL, uploadEvents).
type eventBatch struct {
	ns, run []string
	id      []string // hex, so that it joins to NS in one string as the compaction's lists need
	status  []int64
	expires []int64
}

func (b *eventBatch) add(ns string, mk state.EventMark, status int64, run string) {
	b.ns, b.id, b.status = append(b.ns, ns), append(b.id, hex.EncodeToString(mk.ID[:])), append(b.status, status)
	b.expires, b.run = append(b.expires, mk.Expires), append(b.run, run)
}

func (b *eventBatch) len() int { return len(b.ns) }

func (b *eventBatch) addBatch(o eventBatch) {
	b.ns, b.id, b.status = append(b.ns, o.ns...), append(b.id, o.id...), append(b.status, o.status...)
	b.expires, b.run = append(b.expires, o.expires...), append(b.run, o.run...)
}

// pendingWrites gathers the pending rows of concurrent requests into shared INSERTs: up to
// pendingInFlight are in flight, and the rows of the requests that come while all are busy wait
// and go together in the next. So a run makes a few INSERTs per Snowflake round trip, not one per
// request (each INSERT is micro-partitions of its own), and a request waits at most for one INSERT
// in flight and its own.
type pendingWrites struct {
	mu      sync.Mutex
	rows    eventBatch
	waiters []chan error
	writers int // writer goroutines inserting
}

// pendingInFlight is how many pending INSERTs run at once: with one, each request waited for the
// INSERT in flight before its own (BenchmarkWarehouseEvents, 100k events at a 150 ms round trip:
// 2,988 events/s and 181 INSERTs; with three 3,850 and 376). The connection pool keeps two more
// connections, for the flush and the lock's heartbeat.
const pendingInFlight = 3

// insertPending inserts b's rows, with those of other requests waiting, and returns once they are
// in the warehouse.
func (s *Store) insertPending(b eventBatch) error {
	done := make(chan error, 1)
	pw := &s.pending
	pw.mu.Lock()
	pw.rows.addBatch(b)
	pw.waiters = append(pw.waiters, done)
	if pw.writers < pendingInFlight {
		pw.writers++
		go s.writePending()
	}
	pw.mu.Unlock()
	return <-done
}

// writePending inserts the rows gathered so far, round after round, until none are waiting.
func (s *Store) writePending() {
	pw := &s.pending
	for {
		pw.mu.Lock()
		rows, waiters := pw.rows, pw.waiters
		pw.rows, pw.waiters = eventBatch{}, nil
		if len(waiters) == 0 {
			pw.writers--
			pw.mu.Unlock()
			return
		}
		pw.mu.Unlock()
		err := s.insertEvents(context.Background(), "recording event identities as pending before their request", rows)
		for _, w := range waiters {
			w <- err
		}
	}
}

// insertEvents writes b as VERSION 0 rows, uploadRows to an INSERT.
func (s *Store) insertEvents(ctx context.Context, doing string, b eventBatch) error {
	for lo := 0; lo < b.len(); lo += uploadRows {
		hi := min(lo+uploadRows, b.len())
		ns, id, st, ex, run := b.ns[lo:hi], b.id[lo:hi], b.status[lo:hi], b.expires[lo:hi], b.run[lo:hi]
		if err := s.exec(ctx, doing, "INSERT INTO "+s.names.events+" (NS, EVENT_ID, STATUS, EXPIRES_AT, RUN_ID, VERSION) VALUES (?, ?, ?, ?, ?, 0)",
			sf.Array(&ns), sf.Array(&id), sf.Array(&st), sf.Array(&ex), sf.Array(&run)); err != nil {
			return err
		}
	}
	return nil
}

// Events opens the event identities of ns: the local copy's, which Open brought up to date, with
// every pending mark written to the warehouse before MarkEvents returns.
func (s *Store) Events(ctx context.Context, ns state.Namespace) (state.Events, error) {
	if err := s.holds(ns); err != nil {
		return nil, err
	}
	evs, err := s.local.Events(ctx, ns)
	if err != nil {
		return nil, err
	}
	return &events{Events: evs, s: s, ns: namespaceID(ns), info: ns}, nil
}

// events is a namespace's identities whose pending marks reach the warehouse first.
type events struct {
	state.Events
	s    *Store
	ns   string
	info state.Namespace

	mu      sync.Mutex
	ensured bool // the namespace's row is in the warehouse
}

// ensure writes the namespace's row before its first pending row: a run dying before its first
// upload would otherwise leave pending rows that no later run reads. Not at open, so that a dry
// run, which marks nothing, writes nothing.
func (e *events) ensure(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ensured {
		return nil
	}
	if err := e.s.ensureNamespace(ctx, e.info); err != nil {
		return err
	}
	e.ensured = true
	return nil
}

func (e *events) MarkEvents(ctx context.Context, marks []state.EventMark) error {
	if err := e.s.lock.lost(); err != nil {
		return err
	}
	var pending eventBatch
	for _, mk := range marks {
		if mk.Status == state.EventPending {
			pending.add(e.ns, mk, eventPending, e.s.cfg.RunID)
		}
	}
	if pending.len() > 0 {
		if err := e.ensure(ctx); err != nil {
			return err
		}
		if err := e.s.insertPending(pending); err != nil {
			return err
		}
	}
	if err := e.Events.MarkEvents(ctx, marks); err != nil {
		return err
	}
	e.s.marks.note(e.ns, marks)
	return nil
}

const namespaceEnsure = `MERGE INTO %s t
USING (SELECT ? AS NS, ? AS DESTINATION, ? AS ENDPOINT, ? AS TABLE_NAME, ? AS KEY_KIND, ? AS EXPORT_ATTRIBUTE, ? AS EXPORT_VALUE, ? AS VERSION) s
ON t.NS = s.NS
WHEN NOT MATCHED THEN INSERT (NS, DESTINATION, ENDPOINT, TABLE_NAME, KEY_KIND, EXPORT_ATTRIBUTE, EXPORT_VALUE, USERS, FLAGGED_USERS, LAST_RUN, RESET_VERSION, VERSION)
  VALUES (s.NS, s.DESTINATION, s.ENDPOINT, s.TABLE_NAME, s.KEY_KIND, s.EXPORT_ATTRIBUTE, s.EXPORT_VALUE, 0, 0, NULL, 0, s.VERSION)`

// flushSettled writes the marks settled since the last flush as VERSION 0 rows, every
// settleFlushEvery until stop is closed. A failed flush puts its rows back for the next one, or
// for the upload at the end.
func (s *Store) flushSettled(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(settleFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		b := s.marks.takeUnflushed()
		if b.len() == 0 || s.lock.lost() != nil {
			continue
		}
		if err := s.insertEvents(context.Background(), "recording settled event identities", b); err != nil {
			s.marks.putBack(b)
			s.cfg.Log.Warn().Err(err).Msg("warehouse state: settled event identities could not be flushed; the next flush or the upload retries them")
		}
	}
}

// ensureNamespace writes ns's row unless the warehouse has it.
func (s *Store) ensureNamespace(ctx context.Context, ns state.Namespace) error {
	return s.exec(ctx, "recording namespace "+ns.String(), fmt.Sprintf(namespaceEnsure, s.names.namespaces),
		namespaceID(ns), ns.Destination, ns.Endpoint, ns.Table, ns.KeyKind, ns.ExportAttribute, ns.ExportValue, int64(s.base))
}

// uploadEvents writes the outcomes still unflushed as VERSION 0 rows, then copies every VERSION 0
// outcome of the destination's namespaces — this run's, and those of runs that died before their
// upload — into version next, over whatever an interrupted upload left above the committed
// version. It returns how many rows it copied.
func (s *Store) uploadEvents(ctx context.Context, ids []string, next uint64) (int, error) {
	if err := s.insertEvents(ctx, "recording settled event identities", s.marks.takeUnflushed()); err != nil {
		return 0, err
	}
	in := nsList(ids)
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+s.names.events+" WHERE NS IN "+in+" AND VERSION = 0 AND STATUS <> 1").Scan(&n); err != nil {
		return 0, explain("counting settled event identities", err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := s.exec(ctx, "clearing an interrupted upload", "DELETE FROM "+s.names.events+" WHERE NS IN "+in+" AND VERSION > ?", int64(s.base)); err != nil {
		return 0, err
	}
	return n, s.exec(ctx, "committing event identities", "INSERT INTO "+s.names.events+" (NS, EVENT_ID, STATUS, EXPIRES_AT, RUN_ID, VERSION) "+
		"SELECT NS, EVENT_ID, STATUS, EXPIRES_AT, NULL, ? FROM "+s.names.events+" WHERE NS IN "+in+" AND VERSION = 0 AND STATUS <> 1", int64(next))
}

// outcomeOrder sorts an identity's rows of one version so that the last one read is what it is
// now: pending first, then forgotten, then sent or ambiguous — an identity is forgotten only when
// Braze certainly did not record it, so any later outcome is a later send.
const outcomeOrder = "CASE STATUS WHEN 1 THEN 0 WHEN 0 THEN 1 ELSE 2 END"

// settleEvents runs after version is committed: the pending rows it settles go, and so do the
// forgotten and the expired ones. A failure leaves rows that readers already read right.
func (s *Store) settleEvents(ctx context.Context, ids []string, version uint64) {
	in := nsList(ids)
	for _, stmt := range []struct {
		q    string
		args []any
	}{
		{"DELETE FROM " + s.names.events + " WHERE NS IN " + in + " AND VERSION = 0 AND NS || EVENT_ID IN " +
			"(SELECT NS || EVENT_ID FROM " + s.names.events + " WHERE NS IN " + in + " AND VERSION = ?)", []any{int64(version)}},
		{"DELETE FROM " + s.names.events + " WHERE NS IN " + in + " AND (STATUS = 0 OR EXPIRES_AT < ?)", []any{time.Now().Unix()}},
	} {
		if err := s.exec(ctx, "settling the warehouse's event identities", stmt.q, stmt.args...); err != nil {
			s.cfg.Log.Warn().Err(err).Msg("warehouse state: settled event identities stay until the next upload removes them")
			return
		}
	}
}

// importEvents copies the warehouse's identities into the local copy: the settled ones of the
// versions in (since, upTo] (every version for the namespaces in full), and, always, the pending
// ones no committed version settles — those a run left on the wire when it died — as interrupted.
func (s *Store) importEvents(ctx context.Context, spaces []warehouseNamespace, full map[string]bool, since, upTo uint64) error {
	if len(spaces) == 0 {
		return nil
	}
	byID, ids, fullIDs := namespaceLists(spaces, full)
	in := nsList(ids)
	q := "SELECT NS, EVENT_ID, STATUS, EXPIRES_AT FROM " + s.names.events + " WHERE NS IN " + in + " AND EXPIRES_AT >= ? AND (" +
		"(VERSION > 0 AND VERSION <= ? AND (VERSION > ? OR NS IN " + nsList(fullIDs) + ")) OR " +
		"(VERSION = 0 AND NS || EVENT_ID NOT IN (SELECT NS || EVENT_ID FROM " + s.names.events + " WHERE NS IN " + in + " AND VERSION > 0 AND VERSION <= ?)))" +
		" ORDER BY NS, VERSION, " + outcomeOrder
	imp := &eventImporter{s: s, byID: byID}
	err := streamArrow(ctx, s.db, q, func(rec arrow.Record) error { return imp.add(ctx, rec) },
		time.Now().Unix(), int64(upTo), int64(since), int64(upTo))
	if err == nil {
		err = imp.flush(ctx)
	}
	if err != nil {
		return explain("importing the warehouse's event identities", err)
	}
	return nil
}

// eventImporter gathers identity rows into marks and applies them to the local copy in batches.
type eventImporter struct {
	s     *Store
	byID  map[string]state.Namespace
	ns    string
	marks []state.EventMark
}

func (im *eventImporter) add(ctx context.Context, rec arrow.Record) error {
	cols := rec.Columns()
	for i := 0; i < int(rec.NumRows()); i++ {
		ns, _ := stringAt(cols[0], i)
		if ns != im.ns || len(im.marks) >= importBatch {
			if err := im.flush(ctx); err != nil {
				return err
			}
			im.ns = ns
		}
		h, _ := stringAt(cols[1], i)
		raw, err := hex.DecodeString(h)
		if err != nil || len(raw) != state.EventIDSize {
			return fmt.Errorf("an event identity of namespace %s is not %d hex-encoded bytes: the table was edited by hand", ns, state.EventIDSize)
		}
		status, _ := intAt(cols[2], i)
		st, ok := importedStatus(status)
		if !ok {
			return fmt.Errorf("an event identity of namespace %s has STATUS %d, which brazesync never writes: the table was edited by hand", ns, status)
		}
		mk := state.EventMark{Status: st}
		copy(mk.ID[:], raw)
		mk.Expires, _ = intAt(cols[3], i)
		im.marks = append(im.marks, mk)
	}
	return nil
}

// keepLocalKnowledge keeps what this folder knows of an identity the warehouse has only as
// pending: a run killed on this machine recorded Braze's answers here as they came, and this run
// uploads them, so the warehouse learns them too.
func (im *eventImporter) keepLocalKnowledge(evs state.Events) error {
	var known []state.EventMark
	for i := range im.marks {
		mk := &im.marks[i]
		if mk.Status != state.EventInterrupted {
			continue
		}
		st, err := evs.LookupEvent(mk.ID)
		if err != nil {
			return err
		}
		if st == state.EventSent || st == state.EventAmbiguous {
			mk.Status = st
			known = append(known, *mk)
		}
	}
	im.s.marks.note(im.ns, known)
	return nil
}

// importedStatus is the local mark for a warehouse STATUS (false: not one brazesync writes).
func importedStatus(status int64) (state.EventStatus, bool) {
	switch status {
	case eventForgotten:
		return state.EventUnknown, true
	case eventPending:
		return state.EventInterrupted, true
	case eventSent:
		return state.EventSent, true
	case eventAmbiguous:
		return state.EventAmbiguous, true
	}
	return state.EventUnknown, false
}

func (im *eventImporter) flush(ctx context.Context) error {
	if len(im.marks) == 0 {
		return nil
	}
	ns, ok := im.byID[im.ns]
	if !ok {
		return fmt.Errorf("event identities of an unknown namespace %s", im.ns)
	}
	evs, err := im.s.local.Events(ctx, ns)
	if err != nil {
		return err
	}
	if err := im.keepLocalKnowledge(evs); err != nil {
		return err
	}
	if err := im.s.local.ImportEvents(ctx, ns, im.marks); err != nil {
		return err
	}
	im.marks = im.marks[:0]
	return nil
}

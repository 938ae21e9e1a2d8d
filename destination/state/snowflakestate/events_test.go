package snowflakestate

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
)

var activity = state.Namespace{Destination: "braze", Endpoint: "rest.iad-01.braze.com", Table: "activity", KeyKind: "external_id"}

func evID(b byte) state.EventID {
	var id state.EventID
	for i := range id {
		id[i] = b ^ byte(i*37)
	}
	return id
}

func openEvents(t *testing.T, s *Store) state.Events {
	t.Helper()
	evs, err := s.Events(context.Background(), activity)
	require.NoError(t, err)
	return evs
}

func mark(t *testing.T, evs state.Events, status state.EventStatus, ids ...state.EventID) {
	t.Helper()
	exp := time.Now().Add(time.Hour).Unix()
	var marks []state.EventMark
	for _, id := range ids {
		marks = append(marks, state.EventMark{ID: id, Status: status, Expires: exp})
	}
	require.NoError(t, evs.MarkEvents(context.Background(), marks))
}

func status(t *testing.T, evs state.Events, id state.EventID) state.EventStatus {
	t.Helper()
	st, err := evs.LookupEvent(id)
	require.NoError(t, err)
	return st
}

// eventRows counts BRAZESYNC_EVENTS rows by version 0 (pending) and above (settled).
func (w *warehouse) eventRows() (pending, settled int) {
	w.t.Helper()
	require.NoError(w.t, w.emu.DB().QueryRow(`SELECT count(*) FROM "BRAZESYNC.BRAZESYNC_EVENTS" WHERE VERSION = 0`).Scan(&pending))
	require.NoError(w.t, w.emu.DB().QueryRow(`SELECT count(*) FROM "BRAZESYNC.BRAZESYNC_EVENTS" WHERE VERSION > 0`).Scan(&settled))
	return pending, settled
}

// TestEventsAcrossMachines: a pending identity is in the warehouse when MarkEvents returns, before
// its request could go out; what Braze accepted is found sent by a machine that never ran; what
// was certainly not recorded is forgotten everywhere.
func TestEventsAcrossMachines(t *testing.T) {
	w := newWarehouse(t)
	a := w.mustOpen(filepath.Join(t.TempDir(), "a"))
	evs := openEvents(t, a)
	mark(t, evs, state.EventPending, evID(1), evID(2), evID(3))
	pending, _ := w.eventRows()
	require.Equal(t, 3, pending, "pending identities reach the warehouse before MarkEvents returns")
	mark(t, evs, state.EventSent, evID(1))
	mark(t, evs, state.EventAmbiguous, evID(2))
	mark(t, evs, state.EventUnknown, evID(3))
	require.NoError(t, a.Close())
	pending, settled := w.eventRows()
	require.Zero(t, pending, "the upload's version settles every pending row")
	require.Equal(t, 2, settled, "sent and ambiguous are kept; forgotten is not")

	b := w.mustOpen(filepath.Join(t.TempDir(), "b"))
	evsB := openEvents(t, b)
	require.Equal(t, state.EventSent, status(t, evsB, evID(1)))
	require.Equal(t, state.EventAmbiguous, status(t, evsB, evID(2)))
	require.Equal(t, state.EventUnknown, status(t, evsB, evID(3)))
	require.NoError(t, b.Close())
}

// TestKilledRunsEventsAreInterrupted: identities a killed run left pending are interrupted for the
// next run on any machine, whatever version its copy is at, until a run settles them; what the
// killed run had heard accepted is interrupted too, since only the warehouse outlived it.
func TestKilledRunsEventsAreInterrupted(t *testing.T) {
	w := newWarehouse(t)
	dirB := filepath.Join(t.TempDir(), "b")
	b := w.mustOpen(dirB) // machine b is at the warehouse's version before the killed run
	mark(t, openEvents(t, b), state.EventPending, evID(9))
	mark(t, openEvents(t, b), state.EventSent, evID(9))
	require.NoError(t, b.Close())

	killed := w.mustOpen(filepath.Join(t.TempDir(), "k"))
	evs := openEvents(t, killed)
	mark(t, evs, state.EventPending, evID(4), evID(5))
	mark(t, evs, state.EventSent, evID(4))
	crash(killed)
	w.emu.Advance(testTTL + time.Second)

	b = w.mustOpen(dirB) // no new version since b's last run: the pending rows are read all the same
	evsB := openEvents(t, b)
	require.Equal(t, state.EventInterrupted, status(t, evsB, evID(4)))
	require.Equal(t, state.EventInterrupted, status(t, evsB, evID(5)))
	require.Equal(t, state.EventSent, status(t, evsB, evID(9)))
	mark(t, evsB, state.EventAmbiguous, evID(4)) // dead-lettered as possibly recorded
	require.NoError(t, b.Close())

	c := w.mustOpen(filepath.Join(t.TempDir(), "c"))
	evsC := openEvents(t, c)
	require.Equal(t, state.EventAmbiguous, status(t, evsC, evID(4)), "settled by b's version")
	require.Equal(t, state.EventInterrupted, status(t, evsC, evID(5)), "nothing settled it: still interrupted")
	require.NoError(t, c.Close())
	pending, _ := w.eventRows()
	require.Equal(t, 1, pending, "only the unsettled pending row is left")
}

// TestResetForgetsEvents: state reset forgets a namespace's identities in the warehouse too.
func TestResetForgetsEvents(t *testing.T) {
	w := newWarehouse(t)
	a := w.mustOpen(filepath.Join(t.TempDir(), "a"))
	evs := openEvents(t, a)
	mark(t, evs, state.EventPending, evID(1))
	mark(t, evs, state.EventSent, evID(1))
	require.NoError(t, a.Close())
	b := w.mustOpen(filepath.Join(t.TempDir(), "b"))
	_, err := b.Reset(context.Background(), func(ns state.Namespace) bool { return ns.Table == "activity" })
	require.NoError(t, err)
	require.NoError(t, b.Close())
	pending, settled := w.eventRows()
	require.Zero(t, pending+settled)
	c := w.mustOpen(filepath.Join(t.TempDir(), "c"))
	require.Equal(t, state.EventUnknown, status(t, openEvents(t, c), evID(1)))
	require.NoError(t, c.Close())
}

// TestKilledRunsFolderKeepsWhatItHeard: the next run on the killed run's own folder keeps what
// the killed run recorded of Braze's answers (the warehouse has those identities only as pending)
// and uploads it, so a machine that never ran learns it too.
func TestKilledRunsFolderKeepsWhatItHeard(t *testing.T) {
	w := newWarehouse(t)
	dir := filepath.Join(t.TempDir(), "k")
	killed := w.mustOpen(dir)
	evs := openEvents(t, killed)
	mark(t, evs, state.EventPending, evID(4), evID(5))
	mark(t, evs, state.EventSent, evID(4))
	crash(killed)
	w.emu.Advance(testTTL + time.Second)

	again := w.mustOpen(dir)
	evs = openEvents(t, again)
	require.Equal(t, state.EventSent, status(t, evs, evID(4)), "this folder heard Braze accept it")
	require.Equal(t, state.EventInterrupted, status(t, evs, evID(5)))
	require.NoError(t, again.Close())

	c := w.mustOpen(filepath.Join(t.TempDir(), "c"))
	require.Equal(t, state.EventSent, status(t, openEvents(t, c), evID(4)), "uploaded by the run after the kill")
	require.NoError(t, c.Close())
}

// TestSettledMarksReachTheWarehouseDuringTheRun: what Braze accepted reaches the warehouse within
// a flush of the answer, so a run killed on a machine that keeps no disk leaves its accepted
// events known sent, not interrupted, to the next run on another machine.
func TestSettledMarksReachTheWarehouseDuringTheRun(t *testing.T) {
	defer func(d time.Duration) { settleFlushEvery = d }(settleFlushEvery)
	settleFlushEvery = 10 * time.Millisecond
	w := newWarehouse(t)
	killed := w.mustOpen(filepath.Join(t.TempDir(), "k"))
	evs := openEvents(t, killed)
	mark(t, evs, state.EventPending, evID(6), evID(7))
	mark(t, evs, state.EventSent, evID(6))
	w.killAfterFlush(killed, 1)

	b := w.mustOpen(filepath.Join(t.TempDir(), "b"))
	evsB := openEvents(t, b)
	require.Equal(t, state.EventSent, status(t, evsB, evID(6)), "flushed before the kill: known sent")
	require.Equal(t, state.EventInterrupted, status(t, evsB, evID(7)), "on the wire at the kill")
	require.NoError(t, b.Close())
	pending, _ := w.eventRows()
	require.Equal(t, 1, pending, "b's version settled the flushed identity's rows; the interrupted one's pending row stays")
}

// TestRetriedEventEndsSent: an identity forgotten after a certain failure (a 429, say) and sent
// again in the same run ends sent, whatever order the warehouse returns its rows in.
func TestRetriedEventEndsSent(t *testing.T) {
	w := newWarehouse(t)
	a := w.mustOpen(filepath.Join(t.TempDir(), "a"))
	evs := openEvents(t, a)
	mark(t, evs, state.EventPending, evID(8))
	mark(t, evs, state.EventUnknown, evID(8))
	mark(t, evs, state.EventPending, evID(8))
	mark(t, evs, state.EventSent, evID(8))
	require.NoError(t, a.Close())
	pending, settled := w.eventRows()
	require.Zero(t, pending)
	require.Equal(t, 1, settled, "the forgotten row is gone, the sent one kept")
	b := w.mustOpen(filepath.Join(t.TempDir(), "b"))
	require.Equal(t, state.EventSent, status(t, openEvents(t, b), evID(8)))
	require.NoError(t, b.Close())
}

// TestRetriedEventOfAKilledRunEndsSent: the same, when the run was killed after the outcomes were
// flushed: the next run reads both outcome rows of the identity uncommitted, and the later wins.
func TestRetriedEventOfAKilledRunEndsSent(t *testing.T) {
	defer func(d time.Duration) { settleFlushEvery = d }(settleFlushEvery)
	settleFlushEvery = 10 * time.Millisecond
	w := newWarehouse(t)
	killed := w.mustOpen(filepath.Join(t.TempDir(), "k"))
	evs := openEvents(t, killed)
	mark(t, evs, state.EventPending, evID(8))
	mark(t, evs, state.EventUnknown, evID(8))
	mark(t, evs, state.EventPending, evID(8))
	mark(t, evs, state.EventSent, evID(8))
	w.killAfterFlush(killed, 2)
	b := w.mustOpen(filepath.Join(t.TempDir(), "b"))
	require.Equal(t, state.EventSent, status(t, openEvents(t, b), evID(8)))
	require.NoError(t, b.Close())
}

// killAfterFlush waits until the run has flushed n outcome rows to the warehouse, then kills it
// and lets its lock expire.
func (w *warehouse) killAfterFlush(s *Store, n int) {
	w.t.Helper()
	require.Eventually(w.t, func() bool {
		var got int
		require.NoError(w.t, w.emu.DB().QueryRow(`SELECT count(*) FROM "BRAZESYNC.BRAZESYNC_EVENTS" WHERE VERSION = 0 AND STATUS <> 1`).Scan(&got))
		return got == n
	}, 10*time.Second, 10*time.Millisecond, "%d outcomes flushed during the run", n)
	crash(s)
	w.emu.Advance(testTTL + time.Second)
}

// TestPendingRowsShareInserts: requests marking their events pending at once, against a warehouse
// whose statements take 100 ms, share INSERTs — pendingInFlight at once, the others' rows together
// in the next round — and every identity is in the warehouse when its MarkEvents returns.
func TestPendingRowsShareInserts(t *testing.T) {
	w := newWarehouseAt(t, 100*time.Millisecond)
	a := w.mustOpen(filepath.Join(t.TempDir(), "a"))
	evs := openEvents(t, a)
	const requests = 16
	var wg sync.WaitGroup
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mark(t, evs, state.EventPending, evID(byte(100+i)))
		}()
	}
	wg.Wait()
	pending, _ := w.eventRows()
	require.Equal(t, requests, pending)
	inserts := 0
	for _, q := range w.emu.History() {
		if strings.HasPrefix(q.SQL, "INSERT INTO") && strings.Contains(q.SQL, layout.EventsTable) {
			inserts++
		}
	}
	require.LessOrEqual(t, inserts, 2*pendingInFlight, "16 requests at once go in at most two rounds of INSERTs")
	require.NoError(t, a.Close())
}

// TestEditedEventRowsFail: a row brazesync could not have written (a status it never uses, an
// identity that is not 16 hex-encoded bytes) fails the next Open naming the table's edit, rather
// than being read as "not sent", which would send the event again.
func TestEditedEventRowsFail(t *testing.T) {
	for _, row := range []struct{ id, status string }{{"'00112233445566778899aabbccddeeff'", "7"}, {"'not-hex'", "2"}} {
		w := newWarehouse(t)
		a := w.mustOpen(filepath.Join(t.TempDir(), "a"))
		evs := openEvents(t, a)
		mark(t, evs, state.EventPending, evID(1))
		mark(t, evs, state.EventSent, evID(1)) // the upload makes version 1
		require.NoError(t, a.Close())
		_, err := w.emu.DB().Exec(`INSERT INTO "BRAZESYNC.BRAZESYNC_EVENTS" VALUES (?, `+row.id+`, `+row.status+`, 4102444800, NULL, 1)`, namespaceID(activity))
		require.NoError(t, err)
		_, err = w.open(filepath.Join(t.TempDir(), "b"))
		require.ErrorContains(t, err, "edited by hand")
	}
}

// TestFailedFlushKeepsItsRows: rows a failed flush took go back ahead of those noted since, so the
// next flush (or the upload) writes both, in the order they settled.
func TestFailedFlushKeepsItsRows(t *testing.T) {
	var m eventMarks
	m.note("ns", []state.EventMark{{ID: evID(1), Status: state.EventSent}})
	taken := m.takeUnflushed()
	m.note("ns", []state.EventMark{{ID: evID(2), Status: state.EventAmbiguous}})
	m.putBack(taken)
	b := m.takeUnflushed()
	require.Equal(t, 2, b.len())
	require.Equal(t, []int64{eventSent, eventAmbiguous}, b.status)
	rest := m.takeUnflushed()
	require.Zero(t, rest.len())
}

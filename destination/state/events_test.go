package state

import (
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

var eventNS = Namespace{Destination: "braze", Table: "activity", KeyKind: "external_id"}

func eventID(b byte) EventID {
	var id EventID
	for i := range id {
		id[i] = b + byte(i)
	}
	return id
}

func lookupT(t *testing.T, ev Events, id EventID) EventStatus {
	t.Helper()
	st, err := ev.LookupEvent(id)
	if err != nil {
		t.Fatalf("LookupEvent: %v", err)
	}
	return st
}

// TestEventMarksSurviveReopen walks an identity through its statuses and reopens the folder: what
// was marked is durable, and a forgotten identity is gone.
func TestEventMarksSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := Open(dir, Options{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := l.Events(ctx, eventNS)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Unix()
	a, b, c := eventID(1), eventID(2), eventID(3)
	if err := ev.MarkEvents(ctx, []EventMark{{a, EventPending, exp}, {b, EventPending, exp}, {c, EventPending, exp}}); err != nil {
		t.Fatal(err)
	}
	if st := lookupT(t, ev, a); st != EventPending {
		t.Fatalf("this process's pending identity reads %d", st)
	}
	if err := ev.MarkEvents(ctx, []EventMark{{a, EventSent, exp}, {b, EventAmbiguous, exp}, {c, EventUnknown, 0}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openT(t, dir, "r2")
	ev2, err := l2.Events(ctx, eventNS)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[EventID]EventStatus{a: EventSent, b: EventAmbiguous, c: EventUnknown, eventID(9): EventUnknown} {
		if got := lookupT(t, ev2, id); got != want {
			t.Errorf("identity %x: status %d, want %d", id[0], got, want)
		}
	}
	// Identities belong to their namespace.
	other, err := l2.Events(ctx, Namespace{Destination: "braze", Table: "orders", KeyKind: "external_id"})
	if err != nil {
		t.Fatal(err)
	}
	if got := lookupT(t, other, a); got != EventUnknown {
		t.Errorf("another namespace sees identity a: %d", got)
	}
}

// TestEventInterrupted: a pending identity written by another process (a run that died with its
// request on the wire) reads as interrupted, not as this run's own pending one.
func TestEventInterrupted(t *testing.T) {
	l := openT(t, t.TempDir(), "r1")
	ev, err := l.Events(context.Background(), eventNS)
	if err != nil {
		t.Fatal(err)
	}
	id := eventID(4)
	rn := ev.(*run)
	v := encodeEvent(storedEvent{status: EventPending, expires: time.Now().Add(time.Hour).Unix(), process: processTag + 2})
	if err := l.db.Set(eventKey(nil, rn.id, id), v, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if got := lookupT(t, ev, id); got != EventInterrupted {
		t.Fatalf("status %d, want interrupted", got)
	}
}

// TestEventExpiry: an identity past its expiry reads as unknown, and the next Events drops it and
// its index entry from the store.
func TestEventExpiry(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	l, err := Open(dir, Options{RunID: "r1", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ctx := context.Background()
	ev, err := l.Events(ctx, eventNS)
	if err != nil {
		t.Fatal(err)
	}
	old, fresh := eventID(5), eventID(6)
	if err := ev.MarkEvents(ctx, []EventMark{{old, EventSent, now.Unix() + 10}, {fresh, EventSent, now.Unix() + 1000}}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(100 * time.Second)
	if got := lookupT(t, ev, old); got != EventUnknown {
		t.Errorf("expired identity reads %d", got)
	}
	if _, err := l.Events(ctx, eventNS); err != nil { // purges
		t.Fatal(err)
	}
	rn := ev.(*run)
	if _, closer, err := l.db.Get(eventKey(nil, rn.id, old)); err != pebble.ErrNotFound {
		if closer != nil {
			closer.Close()
		}
		t.Errorf("expired identity still stored (%v)", err)
	}
	if got := lookupT(t, ev, fresh); got != EventSent {
		t.Errorf("unexpired identity purged: %d", got)
	}
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: expiryPrefix(rn.id), UpperBound: expiryPrefix(rn.id + 1)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	it.Close()
	if n != 1 {
		t.Errorf("%d expiry index entries, want 1", n)
	}
}

// TestEventResetForgets: state reset forgets a namespace's identities with its users.
func TestEventResetForgets(t *testing.T) {
	l := openT(t, t.TempDir(), "r1")
	ctx := context.Background()
	ev, err := l.Events(ctx, eventNS)
	if err != nil {
		t.Fatal(err)
	}
	id := eventID(7)
	if err := ev.MarkEvents(ctx, []EventMark{{id, EventSent, time.Now().Add(time.Hour).Unix()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reset(ctx, func(ns Namespace) bool { return ns == eventNS }); err != nil {
		t.Fatal(err)
	}
	ev2, err := l.Events(ctx, eventNS)
	if err != nil {
		t.Fatal(err)
	}
	if got := lookupT(t, ev2, id); got != EventUnknown {
		t.Errorf("identity survived reset: %d", got)
	}
}

func TestEventCodec(t *testing.T) {
	in := storedEvent{status: EventPending, expires: 1_700_000_000, process: processTag}
	enc := encodeEvent(in)
	out, err := decodeEvent(enc)
	if err != nil || out != in {
		t.Fatalf("round trip: %+v %v", out, err)
	}
	for cut := 0; cut < len(enc); cut++ {
		if _, err := decodeEvent(enc[:cut]); err == nil {
			t.Errorf("a value cut at %d of %d bytes decoded", cut, len(enc))
		}
	}
	if _, err := decodeEvent(encodeEvent(storedEvent{status: EventInterrupted, expires: 1})); err == nil {
		t.Error("a status that is never stored decoded")
	}
}

// TestEventInterruptedMark: an identity marked interrupted (another process's pending one, copied
// from the warehouse) is found interrupted, also by this process, and a later mark settles it.
func TestEventInterruptedMark(t *testing.T) {
	l := openT(t, t.TempDir(), "r1")
	ctx := context.Background()
	ev, err := l.Events(ctx, eventNS)
	if err != nil {
		t.Fatal(err)
	}
	id, exp := eventID(9), time.Now().Add(time.Hour).Unix()
	if err := ev.MarkEvents(ctx, []EventMark{{id, EventInterrupted, exp}}); err != nil {
		t.Fatal(err)
	}
	if got := lookupT(t, ev, id); got != EventInterrupted {
		t.Fatalf("an identity marked interrupted reads %d, want EventInterrupted", got)
	}
	if err := ev.MarkEvents(ctx, []EventMark{{id, EventAmbiguous, exp}}); err != nil {
		t.Fatal(err)
	}
	if got := lookupT(t, ev, id); got != EventAmbiguous {
		t.Fatalf("after settling it reads %d, want EventAmbiguous", got)
	}
}

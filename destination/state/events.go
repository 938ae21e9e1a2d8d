package state

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Event identities (docs/events.md). Braze has no deduplication key for events, so the state keeps
// the identity of each event or purchase row it sent (schema.EventID, 16 bytes) until its expiry,
// with what is known of it:
//
//	e <ns id> <identity>            status (1 byte), expiry (uvarint, Unix seconds), process (uvarint)
//	x <ns id> <expiry> <identity>   empty: the expiry index (expiry 8 bytes big-endian)
//
// An identity is written EventPending, durably, before the request carrying its object goes out;
// Braze's answer then makes it EventSent (accepted), removes it (certainly not recorded), or makes
// it EventAmbiguous (the answer never came back). A pending identity names the process that wrote
// it, so one found by a later process was on the wire when an earlier run died: EventInterrupted.
// The expiry index drops every expired identity with one range scan, so the store does not grow
// for ever. Unlike a user record, an identity is never "changed": one that is held is an event sent.
const (
	kindEvent       = 'e'
	kindEventExpiry = 'x'
)

// EventIDSize is the length of an EventID.
const EventIDSize = 16

// EventID is the identity of one event or purchase row (schema.EventID).
type EventID [EventIDSize]byte

// EventStatus is what the state knows of an identity.
type EventStatus uint8

// Event statuses.
const (
	EventUnknown     EventStatus = iota // never sent, expired, or certainly not recorded by Braze
	EventPending                        // its request is on the wire, sent by this process
	EventSent                           // Braze accepted its object
	EventAmbiguous                      // its request's answer never came back: it may be recorded
	EventInterrupted                    // pending when an earlier run died: it may be recorded (never stored)
)

// EventMark sets the status of one identity; EventUnknown removes it. EventInterrupted records an
// identity another process left pending (a copy of the warehouse state's), which this process
// will never settle.
type EventMark struct {
	ID      EventID
	Status  EventStatus
	Expires int64 // Unix seconds: when the identity may be forgotten
}

// Events is the event identities of one namespace during one run. Its methods are safe for
// concurrent use.
type Events interface {
	// LookupEvent reports what the state knows of id; an expired identity is EventUnknown.
	LookupEvent(id EventID) (EventStatus, error)
	// MarkEvents applies the marks in order, durably: when it returns nil, a crash of the machine
	// loses none of them.
	MarkEvents(ctx context.Context, marks []EventMark) error
}

// Assert at compile time that a run's view of a namespace holds its event identities.
var _ Events = (*run)(nil)

// processTag names this process in the pending identities it writes.
var processTag = func() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) | 1 // never 0, which marks a status that is not pending
}()

// Events returns the event identities of ns (creating the namespace if needed), after dropping the
// expired ones.
func (l *Local) Events(ctx context.Context, ns Namespace) (Events, error) {
	sp, err := l.Space(ctx, ns)
	if err != nil {
		return nil, err
	}
	rn := sp.(*run)
	if !l.opts.ReadOnly {
		if err := l.submit(ctx, &commitReq{run: rn, purgeBefore: l.opts.Now().Unix()}); err != nil {
			return nil, fmt.Errorf("dropping expired event identities of %s: %w", ns, err)
		}
	}
	return rn, nil
}

func eventKey(dst []byte, ns uint32, id EventID) []byte {
	dst = binary.BigEndian.AppendUint32(append(dst[:0], kindEvent), ns)
	return append(dst, id[:]...)
}

func expiryPrefix(ns uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{kindEventExpiry}, ns)
}

func expiryKey(ns uint32, expires int64, id EventID) []byte {
	k := binary.BigEndian.AppendUint64(expiryPrefix(ns), uint64(max(expires, 0)))
	return append(k, id[:]...)
}

// eventRanges are the key ranges of a namespace's identities, for Reset.
func eventRanges(ns uint32) [][2][]byte {
	e := binary.BigEndian.AppendUint32([]byte{kindEvent}, ns)
	return [][2][]byte{{e, binary.BigEndian.AppendUint32([]byte{kindEvent}, ns+1)},
		{expiryPrefix(ns), expiryPrefix(ns + 1)}}
}

// LookupEvent reads one identity.
func (rn *run) LookupEvent(id EventID) (EventStatus, error) {
	var kb [1 + 4 + EventIDSize]byte
	v, closer, err := rn.l.db.Get(eventKey(kb[:0], rn.id, id))
	if err == pebble.ErrNotFound {
		return EventUnknown, nil
	}
	if err != nil {
		return EventUnknown, rn.l.readErr(rn.ns, err)
	}
	defer closer.Close()
	ev, err := decodeEvent(v)
	switch {
	case err != nil:
		return EventUnknown, corrupt(rn.l.dir, fmt.Errorf("an event identity of %s: %w", rn.ns, err))
	case ev.expires < rn.l.opts.Now().Unix():
		return EventUnknown, nil
	case ev.status == EventPending && ev.process != processTag:
		return EventInterrupted, nil
	}
	return ev.status, nil
}

// MarkEvents queues the marks for the commit loop and waits until they are durable.
func (rn *run) MarkEvents(ctx context.Context, marks []EventMark) error {
	if len(marks) == 0 {
		return nil
	}
	return rn.l.submit(ctx, &commitReq{run: rn, events: marks})
}

// ImportEvents applies marks copied from elsewhere (the warehouse state) to the identities of ns,
// durably, as MarkEvents does; unlike it, they do not make this run the namespace's last.
func (l *Local) ImportEvents(ctx context.Context, ns Namespace, marks []EventMark) error {
	if len(marks) == 0 {
		return nil
	}
	sp, err := l.Space(ctx, ns)
	if err != nil {
		return err
	}
	return l.submit(ctx, &commitReq{run: sp.(*run), events: marks, imported: true})
}

// storedEvent is an identity's value.
type storedEvent struct {
	status  EventStatus
	expires int64
	process uint64 // the writing process, for EventPending; 0 otherwise
}

func encodeEvent(ev storedEvent) []byte {
	v := binary.AppendUvarint([]byte{byte(ev.status)}, uint64(max(ev.expires, 0)))
	return binary.AppendUvarint(v, ev.process)
}

func decodeEvent(v []byte) (storedEvent, error) {
	if len(v) < 3 || v[0] < byte(EventPending) || v[0] > byte(EventAmbiguous) {
		return storedEvent{}, errBadRecord
	}
	d := decoder{b: v[1:]}
	ev := storedEvent{status: EventStatus(v[0]), expires: int64(d.uvarint()), process: d.uvarint()}
	if d.err || len(d.b) != 0 {
		return storedEvent{}, errBadRecord
	}
	return ev, nil
}

// events stages a request's purge and marks.
func (g *groupWrite) events(req *commitReq) error {
	if req.purgeBefore != 0 {
		if err := g.purgeEvents(req.run, req.purgeBefore); err != nil {
			return err
		}
	}
	for _, m := range req.events {
		if err := g.markEvent(req.run, m); err != nil {
			return err
		}
	}
	return nil
}

// markEvent stages one mark: the identity's value and its place in the expiry index.
func (g *groupWrite) markEvent(rn *run, m EventMark) error {
	key := eventKey(nil, rn.id, m.ID)
	old, had, err := g.eventAt(rn, key)
	if err != nil {
		return err
	}
	if had && (m.Status == EventUnknown || old.expires != m.Expires) {
		_ = g.b.Delete(expiryKey(rn.id, old.expires, m.ID), nil)
	}
	if m.Status == EventUnknown {
		if had {
			_ = g.b.Delete(key, nil)
			g.stage.remove(key)
		}
		return nil
	}
	ev := storedEvent{status: m.Status, expires: m.Expires}
	switch m.Status {
	case EventPending:
		ev.process = processTag
	case EventInterrupted:
		// Another process's pending identity (a warehouse state's copy of one): stored pending with
		// no process of ours, so every lookup finds it interrupted.
		ev.status = EventPending
	}
	v := encodeEvent(ev)
	_ = g.b.Set(key, v, nil)
	g.stage.set(key, v)
	if !had || old.expires != m.Expires {
		_ = g.b.Set(expiryKey(rn.id, m.Expires, m.ID), nil, nil)
	}
	return nil
}

// eventAt reads the identity at key as this group leaves it.
func (g *groupWrite) eventAt(rn *run, key []byte) (storedEvent, bool, error) {
	v, deleted, staged := g.stage.get(key)
	if deleted {
		return storedEvent{}, false, nil
	}
	if !staged {
		got, closer, err := g.l.db.Get(key)
		if err == pebble.ErrNotFound {
			return storedEvent{}, false, nil
		}
		if err != nil {
			return storedEvent{}, false, g.l.readErr(rn.ns, err)
		}
		v = append([]byte(nil), got...)
		closer.Close()
	}
	ev, err := decodeEvent(v)
	if err != nil {
		return storedEvent{}, false, corrupt(g.l.dir, fmt.Errorf("an event identity of %s: %w", rn.ns, err))
	}
	return ev, true, nil
}

// purgeEvents stages the removal of every identity of rn's namespace that expired before now.
func (g *groupWrite) purgeEvents(rn *run, now int64) error {
	lo := expiryPrefix(rn.id)
	hi := binary.BigEndian.AppendUint64(expiryPrefix(rn.id), uint64(max(now, 0)))
	it, err := g.l.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return g.l.readErr(rn.ns, err)
	}
	defer it.Close()
	var id EventID
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != len(lo)+8+EventIDSize {
			return corrupt(g.l.dir, fmt.Errorf("an event expiry of %s: %w", rn.ns, errBadRecord))
		}
		copy(id[:], k[len(lo)+8:])
		key := eventKey(nil, rn.id, id)
		_ = g.b.Delete(key, nil)
		g.stage.remove(key)
	}
	if err := it.Error(); err != nil {
		return g.l.readErr(rn.ns, err)
	}
	_ = g.b.DeleteRange(lo, hi, nil)
	return nil
}

// EventCounts is a namespace's unexpired event identities by what is known of them (state show).
type EventCounts struct {
	Sent        int64 `json:"sent"`
	Ambiguous   int64 `json:"may_be_recorded"`
	Interrupted int64 `json:"interrupted"`
}

// Total is every identity counted.
func (c EventCounts) Total() int64 { return c.Sent + c.Ambiguous + c.Interrupted }

// CountEvents counts the unexpired identities of ns. A pending one counts as interrupted: no
// request of the process asking is on the wire.
func (l *Local) CountEvents(ctx context.Context, ns Namespace) (EventCounts, error) {
	l.mu.Lock()
	sp, ok := l.spaces[ns]
	l.mu.Unlock()
	var c EventCounts
	if !ok {
		return c, nil
	}
	r := eventRanges(sp.id)[0]
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: r[0], UpperBound: r[1]})
	if err != nil {
		return c, l.readErr(ns, err)
	}
	defer it.Close()
	now := l.opts.Now().Unix()
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return c, err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return c, l.readErr(ns, err)
		}
		ev, err := decodeEvent(v)
		if err != nil {
			return c, corrupt(l.dir, fmt.Errorf("an event identity of %s: %w", ns, err))
		}
		switch {
		case ev.expires < now:
		case ev.status == EventSent:
			c.Sent++
		case ev.status == EventAmbiguous:
			c.Ambiguous++
		case ev.status == EventPending:
			c.Interrupted++
		}
	}
	if err := it.Error(); err != nil {
		return c, l.readErr(ns, err)
	}
	return c, nil
}

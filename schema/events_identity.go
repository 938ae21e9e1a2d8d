package schema

import "encoding/hex"

// EventIDSize is the length of an EventID in bytes.
const EventIDSize = 16

// EventID is the identity of one event or purchase row: what the state records once Braze accepted
// the object, so that a re-run, a resume after a crash or an overlapping query window never sends
// the row again. Braze itself has no deduplication key for events (docs/braze-api.md §1.2). It is the
// first 16 bytes of a SHA-256 digest, and this is its only definition:
//
//   - with an id column (id_column, or the braze_event_id tag): of "brazesync/event-id", a NUL,
//     and the id as text (integers in decimal, uuids in canonical form), so two rows with the same
//     id are one event whatever else they hold;
//   - without: of "brazesync/event", a NUL, and the object's members exactly as sent, without
//     _update_existing_only: the identifier, app_id, name (or product_id, currency, price and
//     quantity), time and properties. The time member is left out when the row had none (it
//     carries the sync's start, which changes every run), so such a row is one event across runs.
//
// A content identity changes when the mapping does (a property added, a column renamed): rows sent
// before then are sent again. A declared id does not; docs/events.md says so.
type EventID [EventIDSize]byte

// Domain prefixes keep a declared id from ever equalling a content hash.
var (
	eventIDDomain      = []byte("brazesync/event-id\x00")
	eventContentDomain = []byte("brazesync/event\x00")
)

// String is the identity in lower-case hex (32 characters).
func (id EventID) String() string { return hex.EncodeToString(id[:]) }

func (e *EventEncoder) declaredID(text []byte) EventID {
	e.digest.Reset()
	e.digest.Write(eventIDDomain)
	e.digest.Write(text)
	return e.sum()
}

// contentID hashes the members as sent; the parts are the members before and after the time member
// left out.
func (e *EventEncoder) contentID(before, after []byte) EventID {
	e.digest.Reset()
	e.digest.Write(eventContentDomain)
	e.digest.Write(before)
	e.digest.Write(after)
	return e.sum()
}

func (e *EventEncoder) sum() EventID {
	var id EventID
	e.sumBuf = e.digest.Sum(e.sumBuf[:0])
	copy(id[:], e.sumBuf)
	return id
}

package destination

import (
	"bytes"
	"hash/maphash"
	"sync"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/destination/state"
)

// bodyPrefix and bodySuffix wrap the objects of one /users/track request.
const (
	bodyPrefix = `{"attributes":[`
	bodySuffix = `]}`
)

// userKey is the identity of a user within a run: the key kind, NUL, the key text, and a 64-bit hash
// of them. Batches and the in-flight set are indexed by the hash, so placing a row allocates no key
// string; two users whose hashes collide are treated as one for ordering (never merged: merging
// compares the text), which can only delay a row.
type userKey struct {
	text []byte
	hash uint64
}

// keySeed seeds the key hashes of this process.
var keySeed = maphash.MakeSeed()

// makeUserKey builds the key of user in buf (reused by the caller).
func makeUserKey(buf []byte, kind string, user []byte) userKey {
	buf = append(append(append(buf[:0], kind...), 0), user...)
	return userKey{text: buf, hash: maphash.Bytes(keySeed, buf)}
}

// entry is one attribute object of a batch: one user, built from one row or from several rows of the
// same user merged together (see mergeObject).
type entry struct {
	hash      uint64       // userKey.hash
	key       [2]int       // the user's userKey.text in batch.arena
	span      [2]int       // the object's bytes in batch.arena
	row       int64        // row number (within the table) of the first row
	more      []int64      // rows merged into it later, in order (nil for most objects)
	points    int64        // attribute writes it carries (estimated data points)
	upd       [2]int       // the hashes it carries, in batch.upd, committed once Braze accepts it
	flag      bool         // it carries the export flag
	absent    bool         // its user has no record in the state (rowUpdate.absent)
	pend      *pendingUser // its user's pending entry in the table's diff, until answered
	committed bool         // Braze accepted it and the state recorded it (batch.committedAt)
}

// rows is the number of rows the object stands for.
func (e *entry) rows() int64 { return 1 + int64(len(e.more)) }

// eachRow calls fn with every row number folded into the object.
func (e *entry) eachRow(fn func(row int64)) {
	fn(e.row)
	for _, r := range e.more {
		fn(r)
	}
}

// batch is one /users/track request under construction for one table. Objects and user keys live in
// an arena, so a merge can replace an object in place; index finds a user's object in O(1) by key
// hash, and holds at most one object per hash. The body is assembled once, by finish.
type batch struct {
	table string
	diff  *tableDiff // the table's state, nil when state is off
	arena []byte
	upd   []state.Attr   // the entries' hashes (entry.upd)
	ups   []state.Update // scratch for commitAccepted
	// scratch for answered
	settled []settledUser
	// committedAt is a store version at or after the commit of the entries marked committed.
	committedAt uint64
	entries     []entry
	index       map[uint64]int
	size        int         // bytes of the finished body
	body        []byte      // set by finish
	removal     bool        // mirror mode: every object removes the label from a user who left (mirror_send.go)
	ev          *eventTable // an events or purchases table's request (events.go); nil for attributes
	// accepted is Braze's successful answer to the batch's request, set by send for record to
	// commit and count (&answer; nil when send already accounted for every row).
	accepted *brazeapi.Result
	answer   brazeapi.Result
}

var batchPool = sync.Pool{New: func() any {
	return &batch{arena: make([]byte, 0, 64<<10), index: map[uint64]int{}}
}}

func newBatch(table string, diff *tableDiff) *batch {
	b := batchPool.Get().(*batch)
	b.table, b.diff, b.removal, b.ev, b.accepted = table, diff, false, nil, nil
	b.arena = b.arena[:0]
	b.upd = b.upd[:0]
	b.committedAt = 0
	b.entries = b.entries[:0]
	clear(b.index)
	b.size = len(bodyPrefix) + len(bodySuffix)
	b.body = b.body[:0]
	return b
}

func (b *batch) release() {
	if cap(b.arena) <= 4<<20 && cap(b.body) <= 4<<20 {
		batchPool.Put(b)
	}
}

func (b *batch) len() int { return len(b.entries) }

// sizeWith is the body size if obj were added as a new object.
func (b *batch) sizeWith(obj []byte) int {
	n := b.size + len(obj)
	if len(b.entries) > 0 {
		n++ // the comma
	}
	return n
}

// find returns the index of the object whose key has key's hash, or -1, and whether that object is
// key's user (false only for a hash collision: another user, who must not be merged with this one).
func (b *batch) find(key userKey) (int, bool) {
	i, ok := b.index[key.hash]
	if !ok {
		return -1, false
	}
	return i, string(b.keyText(i)) == string(key.text)
}

// holds reports whether the batch has an object under key's hash: key's user, or a colliding one.
func (b *batch) holds(key userKey) bool { _, ok := b.index[key.hash]; return ok }

// add appends a new object for key built from row (and the rows in more, merged into it earlier),
// carrying the hashes in attrs. The batch must not hold an object with key's hash (find).
func (b *batch) add(key userKey, obj []byte, row int64, more []int64, points int64, attrs []state.Attr, flag bool) {
	b.addEntry(entry{hash: key.hash, row: row, more: more, points: points, flag: flag}, key.text, obj, attrs)
}

// addEntry appends e, with its key, object and hashes copied into the batch.
func (b *batch) addEntry(e entry, key, obj []byte, attrs []state.Attr) {
	b.size = b.sizeWith(obj)
	k := len(b.arena)
	b.arena = append(b.arena, key...)
	start := len(b.arena)
	b.arena = append(b.arena, obj...)
	u := len(b.upd)
	b.upd = append(b.upd, attrs...)
	b.index[e.hash] = len(b.entries)
	e.key, e.span, e.upd = [2]int{k, start}, [2]int{start, len(b.arena)}, [2]int{u, len(b.upd)}
	b.entries = append(b.entries, e)
}

// replace swaps object i for obj (a merge), adding row to its rows and its hashes to the object's
// (a later row's hash wins). The old bytes stay in the arena until the batch is released: at most
// one object per row, so the arena stays bounded.
func (b *batch) replace(i int, obj []byte, row int64, points int64, attrs []state.Attr, flag bool) {
	e := &b.entries[i]
	b.size += len(obj) - (e.span[1] - e.span[0])
	start := len(b.arena)
	b.arena = append(b.arena, obj...)
	e.span = [2]int{start, len(b.arena)}
	e.more = append(e.more, row)
	e.points = points
	e.flag = e.flag || flag
	if len(attrs) > 0 {
		u := len(b.upd)
		b.upd = append(b.upd, b.upd[e.upd[0]:e.upd[1]]...)
		for _, a := range attrs {
			if k := attrIndex(b.upd[u:], a.Name); k >= 0 {
				b.upd[u+k] = a
			} else {
				b.upd = append(b.upd, a)
			}
		}
		e.upd = [2]int{u, len(b.upd)}
	}
}

// attrs returns the hashes object i carries.
func (b *batch) attrs(i int) []state.Attr { u := b.entries[i].upd; return b.upd[u[0]:u[1]] }

// object returns the JSON of the i-th object.
func (b *batch) object(i int) []byte { s := b.entries[i].span; return b.arena[s[0]:s[1]] }

// keyText returns the userKey.text of the i-th object.
func (b *batch) keyText(i int) []byte { k := b.entries[i].key; return b.arena[k[0]:k[1]] }

// userBytes returns the user key of the i-th object, without its kind, in the arena.
func (b *batch) userBytes(i int) []byte {
	k := b.keyText(i)
	return k[bytes.IndexByte(k, 0)+1:]
}

// user returns the user key text of the i-th object, without its kind.
func (b *batch) user(i int) string { return userOf(string(b.keyText(i))) }

// rowCount is the number of rows the batch carries (merged rows included).
func (b *batch) rowCount() int64 {
	var n int64
	for i := range b.entries {
		n += b.entries[i].rows()
	}
	return n
}

// split moves the objects for which busy (given their key hash) is true into a new batch, which it
// returns (nil if none). The objects keep their order in both batches.
func (b *batch) split(busy func(hash uint64) bool) *batch {
	first := -1
	for i := range b.entries {
		if busy(b.entries[i].hash) {
			first = i
			break
		}
	}
	if first < 0 {
		return nil // the common case: nothing in flight, nothing allocated
	}
	rest := newBatch(b.table, b.diff)
	rest.ev = b.ev
	keep := b.entries[:first] // filtered in place: entries only point into the arena
	for i := first; i < len(b.entries); i++ {
		e := b.entries[i]
		if i > first && !busy(e.hash) {
			keep = append(keep, e)
			continue
		}
		rest.addEntry(e, b.keyText(i), b.object(i), b.attrs(i))
	}
	b.entries = keep
	clear(b.index)
	b.size = len(bodyPrefix) + len(bodySuffix)
	for i := range b.entries {
		b.index[b.entries[i].hash] = i
		b.size += b.entries[i].span[1] - b.entries[i].span[0]
		if i > 0 {
			b.size++
		}
	}
	return rest
}

// finish assembles the request body; it is then ready to send.
func (b *batch) finish() []byte {
	if len(b.body) > 0 {
		return b.body
	}
	b.body = append(b.body[:0], b.prefix()...)
	for i := range b.entries {
		if i > 0 {
			b.body = append(b.body, ',')
		}
		b.body = append(b.body, b.object(i)...)
	}
	b.body = append(b.body, bodySuffix...)
	return b.body
}

// inputArray is the request array the batch's objects go in, as Braze names it in errors[].
func (b *batch) inputArray() string {
	if b.ev != nil {
		return b.ev.array
	}
	return "attributes"
}

// prefix opens the request body. Sizes are reckoned with bodyPrefix, the longest of the three.
func (b *batch) prefix() string {
	if b.ev != nil {
		return b.ev.prefix
	}
	return bodyPrefix
}

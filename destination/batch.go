package destination

import "sync"

// bodyPrefix and bodySuffix wrap the objects of one /users/track request.
const (
	bodyPrefix = `{"attributes":[`
	bodySuffix = `]}`
)

// entry is one attribute object of a batch: one user, built from one row or from several rows of the
// same user merged together (see mergeObject).
type entry struct {
	key    string  // identity of the user: key kind, NUL, key text
	span   [2]int  // the object's bytes in batch.arena
	row    int64   // row number (within the table) of the first row
	more   []int64 // rows merged into it later, in order (nil for most objects)
	points int64   // attribute writes it carries (estimated data points)
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

// user returns the user key text, without its kind.
func (e *entry) user() string { return userOf(e.key) }

// batch is one /users/track request under construction for one table. Objects live in an arena, so
// a merge can replace one in place; index finds a user's object in O(1). The body is assembled once,
// by finish.
type batch struct {
	table   string
	arena   []byte
	entries []entry
	index   map[string]int
	size    int    // bytes of the finished body
	body    []byte // set by finish
}

var batchPool = sync.Pool{New: func() any {
	return &batch{arena: make([]byte, 0, 64<<10), index: map[string]int{}}
}}

func newBatch(table string) *batch {
	b := batchPool.Get().(*batch)
	b.table = table
	b.arena = b.arena[:0]
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

// find returns the index of key's object, or -1.
func (b *batch) find(key string) int {
	if i, ok := b.index[key]; ok {
		return i
	}
	return -1
}

// add appends a new object for key built from row (and the rows in more, merged into it earlier).
func (b *batch) add(key string, obj []byte, row int64, more []int64, points int64) {
	b.size = b.sizeWith(obj)
	start := len(b.arena)
	b.arena = append(b.arena, obj...)
	b.index[key] = len(b.entries)
	b.entries = append(b.entries, entry{key: key, span: [2]int{start, len(b.arena)}, row: row, more: more, points: points})
}

// replace swaps object i for obj (a merge), adding row to its rows. The old bytes stay in the arena
// until the batch is released: at most one object per row, so the arena stays bounded.
func (b *batch) replace(i int, obj []byte, row int64, points int64) {
	e := &b.entries[i]
	b.size += len(obj) - (e.span[1] - e.span[0])
	start := len(b.arena)
	b.arena = append(b.arena, obj...)
	e.span = [2]int{start, len(b.arena)}
	e.more = append(e.more, row)
	e.points = points
}

// object returns the JSON of the i-th object.
func (b *batch) object(i int) []byte { s := b.entries[i].span; return b.arena[s[0]:s[1]] }

// rowCount is the number of rows the batch carries (merged rows included).
func (b *batch) rowCount() int64 {
	var n int64
	for i := range b.entries {
		n += b.entries[i].rows()
	}
	return n
}

// split moves the objects for which busy is true into a new batch, which it returns (nil if none).
// The objects keep their order in both batches.
func (b *batch) split(busy func(key string) bool) *batch {
	first := -1
	for i := range b.entries {
		if busy(b.entries[i].key) {
			first = i
			break
		}
	}
	if first < 0 {
		return nil // the common case: nothing in flight, nothing allocated
	}
	rest := newBatch(b.table)
	keep := b.entries[:first] // filtered in place: entries only point into the arena
	for i := first; i < len(b.entries); i++ {
		e := b.entries[i]
		if i > first && !busy(e.key) {
			keep = append(keep, e)
			continue
		}
		rest.add(e.key, b.object(i), e.row, e.more, e.points)
	}
	b.entries = keep
	clear(b.index)
	b.size = len(bodyPrefix) + len(bodySuffix)
	for i := range b.entries {
		b.index[b.entries[i].key] = i
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
	b.body = append(b.body[:0], bodyPrefix...)
	for i := range b.entries {
		if i > 0 {
			b.body = append(b.body, ',')
		}
		b.body = append(b.body, b.object(i)...)
	}
	b.body = append(b.body, bodySuffix...)
	return b.body
}

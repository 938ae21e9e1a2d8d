package destination

import "sync"

// batch is one /users/track request under construction: the body is built in place and each object's
// span is kept so a per-object error can be mapped back to its row and dead-lettered.
type batch struct {
	body   []byte // `{"attributes":[` + objects joined by ',' (closed by finish)
	spans  [][2]int
	keys   []string
	rows   []int64 // row number within the table, for the dead-letter file
	points int64   // attribute writes carried (estimated data points)
	table  string
	closed bool
}

const bodyPrefix = `{"attributes":[`

var batchPool = sync.Pool{New: func() any { return &batch{body: make([]byte, 0, 64<<10)} }}

func newBatch(table string) *batch {
	b := batchPool.Get().(*batch)
	b.body = append(b.body[:0], bodyPrefix...)
	b.spans, b.keys, b.rows = b.spans[:0], b.keys[:0], b.rows[:0]
	b.points, b.table, b.closed = 0, table, false
	return b
}

func (b *batch) release() {
	if cap(b.body) <= 4<<20 {
		batchPool.Put(b)
	}
}

func (b *batch) len() int { return len(b.spans) }

// open starts a new object and returns the offset it starts at.
func (b *batch) open() int {
	if len(b.spans) > 0 {
		b.body = append(b.body, ',')
	}
	start := len(b.body)
	b.body = append(b.body, '{')
	return start
}

// commit records the object that starts at start and ends the body now.
func (b *batch) commit(start int, key []byte, row int64, points int64) {
	b.spans = append(b.spans, [2]int{start, len(b.body)})
	b.keys = append(b.keys, string(key))
	b.rows = append(b.rows, row)
	b.points += points
}

// rollback drops an object that was started but not committed (and its separating comma).
func (b *batch) rollback(start int) {
	if len(b.spans) > 0 {
		start-- // the comma
	}
	b.body = b.body[:start]
}

// object returns the JSON of the i-th object.
func (b *batch) object(i int) []byte { return b.body[b.spans[i][0]:b.spans[i][1]] }

// finish closes the body; it is then ready to send.
func (b *batch) finish() []byte {
	if !b.closed {
		b.body = append(b.body, ']', '}')
		b.closed = true
	}
	return b.body
}

package destination

// freshFilter remembers the users a run placed in a namespace that held no record when the run
// opened it. Every record such a namespace holds is then one this run committed, so a user the
// filter has never seen has none, and a first sync skips the state lookup of nearly every row.
//
// It is a blocked Bloom filter over the users' 64-bit key hashes (userKey.hash): a user's bits all
// lie in one 64-byte block, so adding or testing one costs a single cache miss. It never forgets a
// user; about 3% of the users never added test positive at capacity, which only costs them the
// lookup they would have cost anyway. It holds at most freshFilterUsers users; a run that places
// more stops consulting it, since a user it could no longer add might be taken for one without a
// record.
type freshFilter struct {
	blocks []freshBlock
	n      int // users added
}

// freshBlock is 512 bits: one cache line.
type freshBlock [8]uint64

const (
	freshFilterUsers  = 2 << 20 // 2,097,152 users (8 bits each)
	freshFilterBlocks = 1 << 15 // 32,768 blocks of 64 bytes: 2 MiB
	freshFilterK      = 6       // bits set per user, 9 bits of the hash each
)

func newFreshFilter() *freshFilter {
	return &freshFilter{blocks: make([]freshBlock, freshFilterBlocks)}
}

// full reports whether the filter can take no more users: from then on it must not be consulted.
func (f *freshFilter) full() bool { return f.n >= freshFilterUsers }

// add records a user; it is a no-op once the filter is full.
func (f *freshFilter) add(h uint64) {
	if f.full() {
		return
	}
	f.n++
	b := f.block(h)
	for i := range freshFilterK {
		bit := h >> (9 * i) & 511
		b[bit/64] |= 1 << (bit % 64)
	}
}

// mayHave reports whether the user may have been added (false: certainly not).
func (f *freshFilter) mayHave(h uint64) bool {
	b := f.block(h)
	for i := range freshFilterK {
		bit := h >> (9 * i) & 511
		if b[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

// block is the user's block, chosen by the top 15 bits of its hash (the probes use the low 54).
func (f *freshFilter) block(h uint64) *freshBlock { return &f.blocks[h>>49] }

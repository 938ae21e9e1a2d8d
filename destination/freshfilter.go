package destination

// freshFilter remembers the users a run placed in a namespace that held no record when the run
// opened it. Every record such a namespace holds is then one this run committed, so a user the
// filter has never seen has none, and a first sync skips the state lookup of nearly every row.
//
// It is a Bloom filter over the users' 64-bit key hashes (userKey.hash): no false negatives, about
// 1% false positives (which only cost the lookup they would have cost anyway). It holds at most
// freshFilterUsers users; a run that places more stops consulting it, since a user it could no
// longer add might then be taken for one without a record.
type freshFilter struct {
	bits []uint64
	n    int // users added
}

const (
	freshFilterUsers = 2 << 20               // 2,097,152 users, in 2.5 MiB
	freshFilterBits  = freshFilterUsers * 10 // 10 bits a user: ~1% false positives with 7 probes
	freshFilterK     = 7
)

func newFreshFilter() *freshFilter { return &freshFilter{bits: make([]uint64, freshFilterBits/64)} }

// full reports whether the filter can take no more users: from then on it must not be consulted.
func (f *freshFilter) full() bool { return f.n >= freshFilterUsers }

// add records a user; it is a no-op once the filter is full.
func (f *freshFilter) add(h uint64) {
	if f.full() {
		return
	}
	f.n++
	for _, g := range f.probes(h) {
		f.bits[g/64] |= 1 << (g % 64)
	}
}

// mayHave reports whether the user may have been added (false: certainly not).
func (f *freshFilter) mayHave(h uint64) bool {
	for _, g := range f.probes(h) {
		if f.bits[g/64]&(1<<(g%64)) == 0 {
			return false
		}
	}
	return true
}

// probes are the user's bit positions: double hashing from the two halves of its hash.
func (f *freshFilter) probes(h uint64) [freshFilterK]uint64 {
	var p [freshFilterK]uint64
	h1, h2 := h, h>>32|h<<32|1
	for i := range p {
		p[i] = (h1 + uint64(i)*h2) % freshFilterBits
	}
	return p
}

package brazeemu

import (
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// The store keeps a million profiles without a million small heap objects: strings sit
// in append-only byte chunks, custom attributes in slabs of fixed-size cells, and the
// indexes map 64-bit hashes to entry numbers. None of these hold pointers, so the
// garbage collector marks them without scanning them. With a map[string]any per
// profile, marking the store was about half of the emulator's CPU in the end-to-end
// benchmark (docs/performance.md). Values are turned back into the public Profile
// shape (maps, []any, time.Time) only when a profile is read.

// strRef locates a string in a byteArena.
type strRef struct{ chunk, off, n uint32 }

// arenaChunk is the size of a byteArena chunk; longer strings get a chunk of their own.
const arenaChunk = 1 << 20

// byteArena holds strings as append-only bytes. Bytes once written never change, so
// strings read from it (views, no copy) stay valid even after the arena is dropped.
type byteArena struct{ chunks [][]byte }

func (a *byteArena) add(s string) strRef {
	if len(s) == 0 {
		return strRef{}
	}
	last := len(a.chunks) - 1
	if last < 0 || cap(a.chunks[last])-len(a.chunks[last]) < len(s) {
		a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, len(s))))
		last++
	}
	c := a.chunks[last]
	a.chunks[last] = append(c, s...)
	return strRef{chunk: uint32(last), off: uint32(len(c)), n: uint32(len(s))}
}

func (a *byteArena) str(r strRef) string {
	if r.n == 0 {
		return ""
	}
	return unsafe.String(&a.chunks[r.chunk][r.off], int(r.n))
}

// vkind is the type of a stored value.
type vkind uint8

const (
	vNil    vkind = iota // a stored nil (Seed can store one)
	vString              // bits: chunk<<32 | offset in the arena, aux: length
	vInt                 // bits: the int64
	vFloat               // bits: the float64's bits
	vBool                // bits: 0 or 1
	vTime                // bits: Unix seconds, aux: nanoseconds (UTC, no monotonic reading)
	vArray               // bits: slab address of the elements, aux: length
	vBoxed               // bits: index in store.boxes (anything else, kept as is)
)

// cval is one stored value, 16 bytes: a custom attribute of a profile (with its name
// id) or an element of a stored array.
type cval struct {
	bits uint64
	aux  uint32
	meta uint32 // the vkind in the low byte; the attribute name id above it
}

func mkval(k vkind, bits uint64, aux uint32) cval { return cval{bits: bits, aux: aux, meta: uint32(k)} }

func (c cval) kind() vkind  { return vkind(c.meta) }
func (c cval) name() uint32 { return c.meta >> 8 }

// named returns c as the value of the attribute with name id.
func (c cval) named(id uint32) cval {
	c.meta = id<<8 | c.meta&0xff
	return c
}

// maxNames is the number of distinct custom attribute names the store can tell apart
// (the id has 24 bits).
const maxNames = 1 << 24

// slabChunk is the number of values per slab chunk; larger regions get their own chunk.
const slabChunk = 1 << 16

// slab allocates regions of cells whose sizes are powers of two, with a free list per
// size so replaced arrays and grown attribute lists are reused.
type slab struct {
	chunks [][]cval // slabChunk cells each; chunks[cur] is being filled
	big    [][]cval // regions larger than a chunk
	cur    int
	used   int          // cells used in chunks[cur]
	free   [49][]uint64 // addresses of free regions, by freeList of their size
}

// bigChunk marks the chunk number of an address that points into slab.big.
const bigChunk = 1 << 31

// sizeClass is the region size holding n values: n itself up to 16 (profiles and
// arrays are mostly small, and exact sizes waste nothing), else the next power of two.
func sizeClass(n uint32) uint32 {
	if n <= 16 {
		return n
	}
	return 1 << bits.Len32(n-1)
}

// freeList is the free-list number of size class n.
func freeList(n uint32) int {
	if n <= 16 {
		return int(n)
	}
	return 16 + bits.Len32(n-1)
}

// alloc returns the address (chunk<<32 | offset) of a region of size class n (> 0).
func (s *slab) alloc(n uint32) uint64 {
	k := freeList(n)
	if f := s.free[k]; len(f) > 0 {
		addr := f[len(f)-1]
		s.free[k] = f[:len(f)-1]
		return addr
	}
	if n > slabChunk {
		s.big = append(s.big, make([]cval, n))
		return uint64(bigChunk|(len(s.big)-1)) << 32
	}
	if len(s.chunks) == 0 {
		s.chunks = append(s.chunks, make([]cval, slabChunk))
	}
	if s.used+int(n) > slabChunk {
		s.cur, s.used = s.cur+1, 0
		if s.cur == len(s.chunks) {
			s.chunks = append(s.chunks, make([]cval, slabChunk))
		}
	}
	addr := uint64(s.cur)<<32 | uint64(s.used)
	s.used += int(n)
	return addr
}

// release returns a region of size class n to the free list.
func (s *slab) release(addr uint64, n uint32) {
	if n == 0 {
		return
	}
	k := freeList(n)
	s.free[k] = append(s.free[k], addr)
}

// cells returns the n cells at addr.
func (s *slab) cells(addr uint64, n uint32) []cval {
	if n == 0 {
		return nil
	}
	c, off := uint32(addr>>32), uint32(addr)
	if c&bigChunk != 0 {
		return s.big[c&^bigChunk][off : off+n : off+n]
	}
	return s.chunks[c][off : off+n : off+n]
}

// reset forgets every region but keeps the chunks: cells are never handed out (reads
// copy them), so a store that is reset refills the same memory.
func (s *slab) reset() {
	s.big = nil
	s.cur, s.used = 0, 0
	for i := range s.free {
		s.free[i] = s.free[i][:0]
	}
}

// strIndex maps strings to entry numbers without holding a pointer: an open-addressing
// table (linear probing) of 64-bit slots, each the upper half of the key's hash (the
// tag) and the entry number plus one (0 is an empty slot). A key's home slot is the
// top bits of its tag, so growing and deleting never read keys again. Keys live in the
// entries; lookups confirm them with keyOf. A miss, the usual case for a new user,
// touches one slot and rarely anything else.
type strIndex struct {
	seed  maphash.Seed
	slots []uint64
	shift uint // 32 - log2(len(slots))
	n     int
}

func newStrIndex(seed maphash.Seed) strIndex { return strIndex{seed: seed} }

func (x *strIndex) len() int { return x.n }

// find returns the key's tag and the slot holding key, or the empty slot ending its
// probe sequence.
func (x *strIndex) find(key string, keyOf func(uint32) string) (tag uint64, pos int, found bool) {
	tag = maphash.String(x.seed, key) >> 32
	mask := len(x.slots) - 1
	for pos = int(tag >> x.shift); ; pos = (pos + 1) & mask {
		v := x.slots[pos]
		if v == 0 {
			return tag, pos, false
		}
		if v>>32 == tag && keyOf(uint32(v)-1) == key {
			return tag, pos, true
		}
	}
}

func (x *strIndex) get(key string, keyOf func(uint32) string) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	_, pos, found := x.find(key, keyOf)
	if !found {
		return 0, false
	}
	return uint32(x.slots[pos]) - 1, true
}

// put maps key (owned by the store: it must not change) to i.
func (x *strIndex) put(key string, i uint32, keyOf func(uint32) string) {
	if (x.n+1)*2 > len(x.slots) { // at most half full: a miss probes ~2.5 slots
		x.grow()
	}
	tag, pos, found := x.find(key, keyOf)
	if !found {
		x.n++
	}
	x.slots[pos] = tag<<32 | uint64(i+1)
}

func (x *strIndex) grow() {
	old := x.slots
	size := max(1024, 2*len(old))
	x.slots = make([]uint64, size)
	x.shift = uint(32 - bits.TrailingZeros(uint(size)))
	mask := size - 1
	for _, v := range old {
		if v == 0 {
			continue
		}
		pos := int(v >> 32 >> x.shift)
		for x.slots[pos] != 0 {
			pos = (pos + 1) & mask
		}
		x.slots[pos] = v
	}
}

// delete removes key, shifting later slots of its probe sequence back so lookups
// need no tombstones.
func (x *strIndex) delete(key string, keyOf func(uint32) string) {
	if x.n == 0 {
		return
	}
	_, pos, found := x.find(key, keyOf)
	if !found {
		return
	}
	x.n--
	mask := len(x.slots) - 1
	x.slots[pos] = 0
	for j := (pos + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		home := int(x.slots[j] >> 32 >> x.shift)
		// Move slot j into the hole unless its home lies cyclically in (pos, j].
		if (j-home)&mask >= (j-pos)&mask {
			x.slots[pos], x.slots[j] = x.slots[j], 0
			pos = j
		}
	}
}

// each calls f for every entry number in the index.
func (x *strIndex) each(f func(uint32)) {
	for _, v := range x.slots {
		if v != 0 {
			f(uint32(v) - 1)
		}
	}
}

func (x *strIndex) clear() {
	clear(x.slots)
	x.n = 0
}

// brazeIndex maps braze_ids to entry numbers. The emulator makes braze_ids from a
// counter (newBrazeIDLocked), so an ID in that exact form is found by its number in a
// slice, in order, with no hashing and no random memory access; any other ID (seeded
// ones) goes to a strIndex. A key is held by one of the two at a time.
type brazeIndex struct {
	gen  []uint32 // gen[n-1]: the entry of the n-th generated ID, or noEntry
	nGen int      // entries of gen that are not noEntry
	hash strIndex
}

// genNumber returns n when id is exactly what newBrazeIDLocked makes for counter n
// (1 <= n < 2^32).
func genNumber(id string) (uint32, bool) {
	if len(id) != 24 || id[0] != 'e' || id[1] != '0' {
		return 0, false
	}
	var n uint64
	for i := 2; i < 24; i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			return 0, false
		}
		if i < 16 && c != 0 {
			return 0, false // above 2^32
		}
		n = n<<4 | uint64(c)
	}
	return uint32(n), n > 0
}

func (x *brazeIndex) len() int { return x.nGen + x.hash.len() }

func (x *brazeIndex) get(id string, keyOf func(uint32) string) (uint32, bool) {
	if n, ok := genNumber(id); ok && int(n) <= len(x.gen) && x.gen[n-1] != noEntry {
		return x.gen[n-1], true
	}
	return x.hash.get(id, keyOf)
}

func (x *brazeIndex) put(id string, i uint32, keyOf func(uint32) string) {
	n, ok := genNumber(id)
	if !ok || int(n) > len(x.gen)+1 {
		x.hash.put(id, i, keyOf)
		return
	}
	x.hash.delete(id, keyOf)
	if int(n) == len(x.gen)+1 {
		x.gen = append(x.gen, i)
		x.nGen++
		return
	}
	if x.gen[n-1] == noEntry {
		x.nGen++
	}
	x.gen[n-1] = i
}

func (x *brazeIndex) delete(id string, keyOf func(uint32) string) {
	if n, ok := genNumber(id); ok && int(n) <= len(x.gen) && x.gen[n-1] != noEntry {
		x.gen[n-1] = noEntry
		x.nGen--
		return
	}
	x.hash.delete(id, keyOf)
}

func (x *brazeIndex) each(f func(uint32)) {
	for _, i := range x.gen {
		if i != noEntry {
			f(i)
		}
	}
	x.hash.each(f)
}

func (x *brazeIndex) clear() {
	x.gen, x.nGen = x.gen[:0], 0
	x.hash.clear()
}

package destination

import (
	"math/rand/v2"
	"testing"
)

// TestKeySetMatchesMap: random adds and removes over a small key space (so probe runs collide and
// wrap) leave the set equal to a map doing the same, including hash 0, which counts as 1.
func TestKeySetMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s keySet
	ref := map[uint64]bool{}
	for i := range 300_000 {
		k := r.Uint64N(3000)
		if r.IntN(4) == 0 {
			k <<= 54 // same low bits: long probe runs that wrap around the table
		}
		if r.IntN(2) == 0 {
			s.add(k)
			ref[slotHash(k)] = true
		} else {
			s.remove(k)
			delete(ref, slotHash(k))
		}
		if s.has(k) != ref[slotHash(k)] || s.n != len(ref) {
			t.Fatalf("step %d, key %d: has %v, want %v; size %d, want %d", i, k, s.has(k), ref[slotHash(k)], s.n, len(ref))
		}
	}
	for k := range ref {
		if !s.has(k) {
			t.Fatalf("lost %d", k)
		}
	}
}

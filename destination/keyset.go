package destination

// keySet is a set of user-key hashes: open addressing with linear probing and backward-shift
// deletion. The in-flight set adds and removes every user once per request; Go's map leaves a
// tombstone per delete under that churn and its probes grow long (a map[uint64]struct{} held at
// 2,400 keys costs ~2.7x as much per add+remove as this). Hash 0 marks an empty slot, so it is
// stored as 1: the two count as one user, which only delays a row.
type keySet struct {
	slots []uint64 // power-of-two length, at most half full
	n     int
}

func slotHash(h uint64) uint64 { return max(h, 1) }

// has reports whether h is in the set.
func (s *keySet) has(h uint64) bool {
	if len(s.slots) == 0 {
		return false
	}
	h = slotHash(h)
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

// add puts h in the set.
func (s *keySet) add(h uint64) {
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	h = slotHash(h)
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return
		case 0:
			s.slots[i] = h
			s.n++
			return
		}
	}
}

func (s *keySet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(256, 2*len(old)))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}

// remove takes h out of the set, moving later members of its probe run back into the hole so that
// no tombstone is left.
func (s *keySet) remove(h uint64) {
	if len(s.slots) == 0 {
		return
	}
	h = slotHash(h)
	mask := uint64(len(s.slots) - 1)
	i := h & mask
	for s.slots[i] != h {
		if s.slots[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; s.slots[j] != 0; j = (j + 1) & mask {
		// The member at j may fill the hole at i if its home slot is not after i (cyclically).
		if home := s.slots[j] & mask; (j-home)&mask >= (j-i)&mask {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = 0
	s.n--
}

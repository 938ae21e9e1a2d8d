package state

import "hash/maphash"

// staged is what one commit group has written so far, readable by the group's later requests (a
// user committed twice in one group must see the first commit): each key's latest value, or its
// deletion. Keys and values live in one arena that is reused group after group and indexed by a
// hash of the key, so staging a write allocates nothing once the arena has grown to a group's size.
type staged struct {
	hash  func(key []byte) uint64
	arena []byte
	index map[uint64]int // key hash -> the latest entry with that hash
	ents  []stagedEntry
}

// stagedEntry is one staged write: its key and value in the arena.
type stagedEntry struct {
	key     [2]int
	val     [2]int
	deleted bool
	next    int // the previous entry with the same key hash, or -1
}

func newStaged() *staged {
	seed := maphash.MakeSeed()
	return &staged{hash: func(key []byte) uint64 { return maphash.Bytes(seed, key) }, index: map[uint64]int{}}
}

// reset forgets every write, keeping the memory for the next group. A group that grew the arena
// far beyond the usual lets it go.
func (s *staged) reset() {
	if cap(s.arena) > 64<<20 {
		s.arena = nil
	}
	s.arena, s.ents = s.arena[:0], s.ents[:0]
	clear(s.index)
}

// get returns the latest value staged for key; deleted is true when the group deleted it, and ok
// false when the group did not write key at all.
func (s *staged) get(key []byte) (val []byte, deleted, ok bool) {
	i, found := s.index[s.hash(key)]
	for found && i >= 0 {
		e := &s.ents[i]
		if string(s.arena[e.key[0]:e.key[1]]) == string(key) {
			return s.arena[e.val[0]:e.val[1]], e.deleted, true
		}
		i = e.next
	}
	return nil, false, false
}

// set stages val as key's value.
func (s *staged) set(key, val []byte) { s.put(key, val, false) }

// remove stages key's deletion.
func (s *staged) remove(key []byte) { s.put(key, nil, true) }

func (s *staged) put(key, val []byte, deleted bool) {
	h := s.hash(key)
	prev, ok := s.index[h]
	if !ok {
		prev = -1
	}
	e := stagedEntry{deleted: deleted, next: prev}
	e.key[0] = len(s.arena)
	s.arena = append(s.arena, key...)
	e.key[1] = len(s.arena)
	e.val[0] = e.key[1]
	s.arena = append(s.arena, val...)
	e.val[1] = len(s.arena)
	s.index[h] = len(s.ents)
	s.ents = append(s.ents, e)
}

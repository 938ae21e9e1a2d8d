package destination

import (
	"bytes"

	"github.com/brazesync/brazesync/destination/state"
)

// pendingSet is a table's pending entries (tableDiff.pending) by user. It is indexed by the
// user's 64-bit key hash (userKey.hash, computed once per row anyway), with the rare users whose
// hashes collide chained on one slot, and it keeps dropped entries for reuse: a first sync places
// and drops an entry for every user, and a map keyed by the key's text would hash the text twice
// and allocate it once per user.
//
// It is the writer goroutine's alone.
type pendingSet struct {
	slots map[uint64]*pendingUser
	n     int            // entries held
	free  []*pendingUser // entries dropped, for reuse
}

func newPendingSet() pendingSet { return pendingSet{slots: map[uint64]*pendingUser{}} }

// find returns the user's entry, or nil.
func (s *pendingSet) find(key userKey) *pendingUser {
	p := s.slots[key.hash]
	for p != nil && !bytes.Equal(p.key, key.text) {
		p = p.next
	}
	return p
}

// add returns a new entry for the user, who has none.
func (s *pendingSet) add(key userKey, attrs int) *pendingUser {
	var p *pendingUser
	if n := len(s.free); n > 0 {
		p, s.free = s.free[n-1], s.free[:n-1]
	} else {
		p = &pendingUser{attrs: make([]state.Attr, 0, attrs)}
	}
	p.key, p.hash, p.listed = append(p.key[:0], key.text...), key.hash, true
	p.next = s.slots[key.hash]
	s.slots[key.hash] = p
	s.n++
	return p
}

// drop removes p, keeping it for reuse. It has no object in flight, so no worker touches it any more.
func (s *pendingSet) drop(p *pendingUser) {
	head := s.slots[p.hash]
	switch {
	case head == p && p.next == nil:
		delete(s.slots, p.hash)
	case head == p:
		s.slots[p.hash] = p.next
	default:
		for q := head; q != nil; q = q.next {
			if q.next == p {
				q.next = p.next
				break
			}
		}
	}
	p.next, p.listed = nil, false
	p.attrs, p.flag = p.attrs[:0], false
	p.committed.Store(0)
	s.n--
	s.free = append(s.free, p)
}

// len is the number of entries held.
func (s *pendingSet) len() int { return s.n }

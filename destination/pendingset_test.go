package destination

import (
	"fmt"
	"testing"
)

// TestPendingSetCollisions: users whose key hashes collide keep their own entries, and dropping
// one (first, middle or last of a chain) leaves the others findable.
func TestPendingSetCollisions(t *testing.T) {
	for _, dropAt := range []int{0, 1, 2} {
		t.Run(fmt.Sprint(dropAt), func(t *testing.T) {
			s := newPendingSet()
			keys := make([]userKey, 3)
			entries := make([]*pendingUser, 3)
			for i := range keys {
				keys[i] = userKey{text: []byte(fmt.Sprintf("external_id\x00u-%d", i)), hash: 42} // one slot
				if s.find(keys[i]) != nil {
					t.Fatalf("user %d found before it was added", i)
				}
				entries[i] = s.add(keys[i], 1)
			}
			for i := range keys {
				if got := s.find(keys[i]); got != entries[i] {
					t.Fatalf("user %d: found another user's entry", i)
				}
			}
			s.drop(entries[dropAt])
			if s.len() != 2 || s.find(keys[dropAt]) != nil {
				t.Fatalf("after dropping user %d: %d entries, found %v", dropAt, s.len(), s.find(keys[dropAt]) != nil)
			}
			for i := range keys {
				if i != dropAt && s.find(keys[i]) != entries[i] {
					t.Fatalf("user %d lost when user %d was dropped", i, dropAt)
				}
			}
			again := s.add(keys[dropAt], 1) // reuses the dropped entry, now for the same user anew
			if again != entries[dropAt] || s.find(keys[dropAt]) != again || len(again.attrs) != 0 {
				t.Fatalf("a dropped entry was not reused cleanly")
			}
		})
	}
}

package state

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestStagedLatestWins: a group reads back its own latest write of each key, and its deletions,
// also when every key hashes alike (the chain of same-hash entries is what tells them apart).
func TestStagedLatestWins(t *testing.T) {
	for name, s := range map[string]*staged{"hashed": newStaged(), "all colliding": collidingStaged()} {
		t.Run(name, func(t *testing.T) {
			for round := range 2 { // reset keeps nothing from the round before
				for i := range 50 {
					s.set([]byte(fmt.Sprint("k", i)), []byte(fmt.Sprint("v", i, "-", round)))
				}
				for i := 0; i < 50; i += 5 {
					s.set([]byte(fmt.Sprint("k", i)), []byte(fmt.Sprint("w", i)))
				}
				s.remove([]byte("k7"))
				for i := range 50 {
					val, deleted, ok := s.get([]byte(fmt.Sprint("k", i)))
					want := fmt.Sprint("v", i, "-", round)
					if i%5 == 0 {
						want = fmt.Sprint("w", i)
					}
					switch {
					case !ok:
						t.Fatalf("round %d: k%d not staged", round, i)
					case i == 7 && !deleted:
						t.Fatalf("round %d: k7 not deleted", round)
					case i != 7 && (deleted || string(val) != want):
						t.Fatalf("round %d: k%d = %q (deleted %v), want %q", round, i, val, deleted, want)
					}
				}
				if _, _, ok := s.get([]byte("k50")); ok {
					t.Fatalf("round %d: a key never written is staged", round)
				}
				s.reset()
				if _, _, ok := s.get([]byte("k1")); ok {
					t.Fatal("reset kept a write")
				}
			}
		})
	}
}

func collidingStaged() *staged {
	s := newStaged()
	s.hash = func([]byte) uint64 { return 42 }
	return s
}

// TestNewIsOnlyAHint: Update.New spares the read of the record only while one run holds the
// store; with two (the Action Hub's concurrent runs share one) the record is read and merged, so
// a stale New from one run cannot wipe what the other committed.
func TestNewIsOnlyAHint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	ctx := context.Background()
	h := func(s string) Hash { return HashValue([]byte(s)) }
	l := openT(t, dir, "run-1")
	second, err := Open(dir, Options{RunID: "run-2"}) // the same store, a second run of the process
	if err != nil {
		t.Fatal(err)
	}
	a, b := spaceT(t, l, testNS), spaceT(t, second, testNS)
	if err := a.Commit(ctx, []Update{{Key: []byte("u1"), Attrs: []Attr{{Name: "tier", Hash: h(`"gold"`)}}, Flag: FlagSet, New: true}}); err != nil {
		t.Fatal(err)
	}
	// Run 2 looked u1 up before run 1's commit: its New is stale.
	if err := b.Commit(ctx, []Update{{Key: []byte("u1"), Attrs: []Attr{{Name: "age", Hash: h(`42`)}}, New: true}}); err != nil {
		t.Fatal(err)
	}
	var rec Record
	if ok, err := a.Lookup([]byte("u1"), &rec); !ok || err != nil || rec.Attr("tier") == nil || rec.Attr("age") == nil || !rec.Flagged {
		t.Fatalf("shared store: u1 = %+v (%v, %v); want both attributes and the flag", rec, ok, err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	// One run again: a New commit of a user that is new is written without a read, and counted.
	if err := a.Commit(ctx, []Update{{Key: []byte("u2"), Attrs: []Attr{{Name: "tier", Hash: h(`"blue"`)}}, New: true},
		{Key: []byte("u2"), Attrs: []Attr{{Name: "age", Hash: h(`7`)}}, New: true}}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.Lookup([]byte("u2"), &rec); !ok || rec.Attr("tier") == nil || rec.Attr("age") == nil {
		t.Fatalf("u2 = %+v: the second update of one group must merge into the first", rec)
	}
	info, err := a.Info(ctx)
	if err != nil || info.Users != 2 || info.Flagged != 1 {
		t.Fatalf("info %+v, %v; want 2 users, 1 flagged", info, err)
	}
}

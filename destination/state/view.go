package state

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// view is a Space's View: one iterator, positioned by SeekPrefixGE per lookup. Rows arriving in
// or near key order then cost a step within a cached block instead of a fresh point read.
type view struct {
	rn      *run
	it      *pebble.Iterator
	version uint64
	empty   bool // the namespace held no record: every lookup misses (a first sync)
	key     []byte
	r       raw
}

// View opens a consistent read of the namespace (see Space).
func (rn *run) View() (View, error) {
	version := rn.l.version.Load() // before the iterator: every commit up to it is applied
	it, err := rn.l.db.NewIter(&pebble.IterOptions{LowerBound: rn.prefix, UpperBound: userPrefix(nil, rn.id+1)})
	if err != nil {
		return nil, fmt.Errorf("reading state of %s: %w", rn.ns, err)
	}
	return &view{rn: rn, it: it, version: version, empty: !it.First() && it.Error() == nil}, nil
}

func (v *view) Version() uint64 { return v.version }

// Lookup reads the user's record as of the view and marks the user seen.
func (v *view) Lookup(key []byte, rec *Record) (bool, error) {
	if v.empty {
		return false, nil
	}
	sp := v.rn.space
	v.key = sp.fullKey(v.key, key)
	if !v.it.SeekPrefixGE(v.key) || !bytes.Equal(v.it.Key(), v.key) {
		if err := v.it.Error(); err != nil {
			return false, sp.l.readErr(sp.ns, err)
		}
		return false, nil
	}
	val, err := v.it.ValueAndErr()
	if err != nil {
		return false, sp.l.readErr(sp.ns, err)
	}
	if err := decodeRecord(val, &v.r); err != nil {
		return false, corrupt(sp.l.dir, fmt.Errorf("a record of %s: %w", sp.ns, err))
	}
	if err := sp.toRecord(key, &v.r, rec); err != nil {
		return false, corrupt(sp.l.dir, fmt.Errorf("a record of %s: %w", sp.ns, err))
	}
	v.rn.markSeen(v.r.ordinal)
	return true, nil
}

func (v *view) Close() error { return v.it.Close() }

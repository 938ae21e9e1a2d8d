package state

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// nsMeta is a namespace's description, stored under its n key and rewritten by every commit.
type nsMeta struct {
	Namespace Namespace `json:"namespace"`
	ID        uint32    `json:"id"`
	// Attrs are the attribute names; a record names an attribute by its index here.
	Attrs   []string `json:"attributes,omitempty"`
	Users   int64    `json:"users"`
	Flagged int64    `json:"flagged"`
	// NextOrdinal is the ordinal the next new user gets.
	NextOrdinal uint64 `json:"next_ordinal"`
	LastRun     string `json:"last_run,omitempty"`
	LastCommit  int64  `json:"last_commit,omitempty"`
}

// space is one namespace of a Local store, shared by every run of the process that opens it. Its
// meta changes only in the commit loop; Lookup reads the attribute names through an atomic
// pointer, so lookups never wait for a commit.
type space struct {
	l      *Local
	id     uint32
	ns     Namespace
	prefix []byte

	mu    sync.Mutex // guards meta
	meta  nsMeta
	ids   map[string]uint32 // attribute name -> index in meta.Attrs (commit loop only)
	names atomic.Pointer[[]string]

	keyPool sync.Pool // *[]byte scratch for full keys
	rawPool sync.Pool // *raw scratch
}

// run is one run's view of a namespace: the Space a caller gets, with the users it saw.
type run struct {
	*space
	mu   sync.Mutex // guards seen
	seen bitset
}

// Assert at compile time that run is a Space.
var _ Space = (*run)(nil)

func (r *run) markSeen(ordinals ...uint64) {
	r.mu.Lock()
	for _, o := range ordinals {
		r.seen.set(o)
	}
	r.mu.Unlock()
}

func (r *run) wasSeen(ordinal uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen.has(ordinal)
}

func newSpace(l *Local, m nsMeta) *space {
	sp := &space{l: l, id: m.ID, ns: m.Namespace, prefix: userPrefix(nil, m.ID), meta: m, ids: map[string]uint32{}}
	for i, a := range m.Attrs {
		sp.ids[a] = uint32(i)
	}
	names := append([]string(nil), m.Attrs...)
	sp.names.Store(&names)
	sp.keyPool.New = func() any { b := make([]byte, 0, 64); return &b }
	sp.rawPool.New = func() any { return &raw{} }
	return sp
}

func (sp *space) Namespace() Namespace { return sp.ns }

// fullKey appends the store key of user to dst.
func (sp *space) fullKey(dst, user []byte) []byte {
	return append(append(dst[:0], sp.prefix...), user...)
}

// Lookup reads the user's record and marks the user seen.
func (rn *run) Lookup(key []byte, rec *Record) (bool, error) {
	sp := rn.space
	kp := sp.keyPool.Get().(*[]byte)
	*kp = sp.fullKey(*kp, key)
	v, closer, err := sp.l.db.Get(*kp)
	sp.keyPool.Put(kp)
	if err == pebble.ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, sp.l.readErr(sp.ns, err)
	}
	r := sp.rawPool.Get().(*raw)
	err = decodeRecord(v, r)
	closer.Close()
	if err == nil {
		err = sp.toRecord(key, r, rec)
	}
	ordinal := r.ordinal
	sp.rawPool.Put(r)
	if err != nil {
		return false, corrupt(sp.l.dir, fmt.Errorf("a record of %s: %w", sp.ns, err))
	}
	rn.markSeen(ordinal)
	return true, nil
}

// toRecord fills rec from r, naming attributes from the namespace's names.
func (sp *space) toRecord(key []byte, r *raw, rec *Record) error {
	names := *sp.names.Load()
	rec.Key = append(rec.Key[:0], key...)
	rec.Flagged, rec.FlaggedAt, rec.Version = r.flagged, r.flaggedAt, r.version
	rec.Attrs = rec.Attrs[:0]
	for _, a := range r.attrs {
		if int(a.id) >= len(names) {
			return errBadRecord
		}
		rec.Attrs = append(rec.Attrs, Attr{Name: names[a.id], Hash: a.hash, SentAt: a.sentAt})
	}
	return nil
}

// Commit hands the updates to the commit loop and waits until they are durable.
func (rn *run) Commit(ctx context.Context, updates []Update) error {
	if len(updates) == 0 {
		return nil
	}
	return rn.l.submit(ctx, &commitReq{run: rn, updates: updates})
}

// Import writes whole records (see Space).
func (rn *run) Import(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	return rn.l.submit(ctx, &commitReq{run: rn, records: recs, imported: true})
}

// Scan iterates the namespace's records in key order.
func (rn *run) Scan(ctx context.Context, since uint64, fn func(rec *Record, seen bool) error) error {
	sp := rn.space
	it, err := sp.l.db.NewIter(&pebble.IterOptions{LowerBound: sp.prefix, UpperBound: userPrefix(nil, sp.id+1)})
	if err != nil {
		return fmt.Errorf("scanning state of %s: %w", sp.ns, err)
	}
	defer it.Close()
	var r raw
	var rec Record
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return sp.l.readErr(sp.ns, err)
		}
		if err := decodeRecord(v, &r); err != nil {
			return corrupt(sp.l.dir, fmt.Errorf("a record of %s: %w", sp.ns, err))
		}
		if r.version <= since {
			continue
		}
		if err := sp.toRecord(it.Key()[len(sp.prefix):], &r, &rec); err != nil {
			return corrupt(sp.l.dir, fmt.Errorf("a record of %s: %w", sp.ns, err))
		}
		if err := fn(&rec, rn.wasSeen(r.ordinal)); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return sp.l.readErr(sp.ns, err)
	}
	return nil
}

// Info describes the namespace as of the last commit.
func (sp *space) Info(ctx context.Context) (Info, error) {
	sp.mu.Lock()
	m := sp.meta
	attrs := append([]string(nil), m.Attrs...)
	sp.mu.Unlock()
	size, err := sp.l.db.EstimateDiskUsage(sp.prefix, userPrefix(nil, sp.id+1))
	if err != nil {
		return Info{}, fmt.Errorf("sizing state of %s: %w", sp.ns, err)
	}
	sortStrings(attrs)
	return Info{Namespace: sp.ns, Users: m.Users, Flagged: m.Flagged, Attributes: attrs,
		LastRun: m.LastRun, LastCommit: m.LastCommit, DiskBytes: size}, nil
}

// bitset is the set of ordinals seen in this run: one bit per user of the namespace, so ten
// million users take 1.25 MB.
type bitset struct{ words []uint64 }

func (b *bitset) set(i uint64) {
	w := int(i / 64)
	if w >= len(b.words) {
		b.words = append(b.words, make([]uint64, w+1-len(b.words)+len(b.words)/4)...)
	}
	b.words[w] |= 1 << (i % 64)
}

func (b *bitset) has(i uint64) bool {
	w := int(i / 64)
	return w < len(b.words) && b.words[w]&(1<<(i%64)) != 0
}

package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// maxGroupUpdates caps the updates one durable write gathers, so one sync never waits for an
// unbounded batch.
const maxGroupUpdates = 20000

// commitReq is one Commit or Import waiting for the commit loop.
type commitReq struct {
	run     *run
	updates []Update // Commit: merged into the records
	records []Record // Import: replace the records
	// MarkEvents, and Events' purge of the identities that expired before purgeBefore (events.go).
	events      []EventMark
	purgeBefore int64
	// imported: copied from elsewhere (Import, ImportEvents), so it does not make this run the
	// namespace's last; nor does a purge alone.
	imported bool
	done     chan error
}

// own reports whether req is the run's own work on its namespace.
func (req *commitReq) own() bool {
	return !req.imported && (len(req.updates) > 0 || len(req.events) > 0)
}

var errClosed = errors.New("state store is closed")

// submit queues req and waits until it is durable (or failed). Once queued, a request is waited
// for even if ctx ends: it is applied or refused as a whole, so the caller always knows which.
func (l *Local) submit(ctx context.Context, req *commitReq) error {
	if l.opts.ReadOnly {
		return errors.New("committing state: the folder was opened read-only")
	}
	req.done = make(chan error, 1)
	l.submitMu.RLock()
	if l.closing {
		l.submitMu.RUnlock()
		return errClosed
	}
	select {
	case l.commits <- req:
	case <-ctx.Done():
		l.submitMu.RUnlock()
		return ctx.Err()
	}
	l.submitMu.RUnlock()
	return <-req.done
}

// commitLoop applies queued requests in groups: every request waiting when a write starts joins
// it, so many workers' answers share one sync of the log (group commit), and the namespace
// descriptions, written with each group, always match the records they count. A group that finds
// few requests waiting gives others gatherWait to join: at Braze's pace answers arrive one at a
// time, and each would otherwise cost a sync of its own (a syscall that costs more CPU than the
// commit it makes durable).
func (l *Local) commitLoop() {
	defer close(l.stopped)
	var group []*commitReq
	gather := time.NewTimer(gatherWait)
	gather.Stop()
	for req := range l.commits {
		group = append(group[:0], req)
		n := req.size()
		open := true
	drain: // every request already waiting
		for n < maxGroupUpdates {
			select {
			case r, ok := <-l.commits:
				if !ok {
					open = false
					break drain
				}
				group, n = append(group, r), n+r.size()
			default:
				break drain
			}
		}
		if open && n < gatherBelow {
			gather.Reset(gatherWait)
		wait: // and those arriving within gatherWait
			for n < gatherBelow {
				select {
				case r, ok := <-l.commits:
					if !ok {
						break wait
					}
					group, n = append(group, r), n+r.size()
				case <-gather.C:
					break wait
				}
			}
			gather.Stop()
		}
		err := l.applyGroup(group)
		l.groups++
		for _, r := range group {
			r.done <- err
		}
	}
}

// A group of fewer than gatherBelow updates waits up to gatherWait for more requests to join.
// The wait adds at most gatherWait to a commit, which is dwarfed by the request it records.
const (
	gatherBelow = 1000
	gatherWait  = 2 * time.Millisecond
)

// size is the number of records the request writes.
func (req *commitReq) size() int { return len(req.updates) + len(req.records) + len(req.events) }

// groupWrite is one group being written: the batch, the new values of the keys it touches (a
// later request of the same group must see an earlier one's result), and the namespaces changed.
type groupWrite struct {
	l       *Local
	b       *pebble.Batch
	version uint64
	now     int64
	stage   *staged // the group's writes (Local.stage, reused by every group)
	enc     []byte  // scratch for an encoded record
	// trustNew: Update.New can be taken at its word, because this process holds the store for one
	// run only (runs sharing a store could write the same user in between).
	trustNew bool
	metas    map[*space]*nsMeta
	newIDs   map[*space]map[string]uint32
	seen     map[*run][]uint64
	key      []byte
	old      raw
	it       *pebble.Iterator // reads the records the group changes, opened on first use
}

func (l *Local) applyGroup(group []*commitReq) error {
	l.stage.reset()
	g := &groupWrite{l: l, b: l.db.NewBatch(), version: l.version.Load() + 1, now: l.opts.Now().Unix(),
		stage: l.stage, enc: l.enc[:0], trustNew: l.refs.Load() == 1, metas: map[*space]*nsMeta{},
		newIDs: map[*space]map[string]uint32{}, seen: map[*run][]uint64{}}
	defer func() { l.enc = g.enc }()
	defer g.b.Close()
	defer func() {
		if g.it != nil {
			g.it.Close()
		}
	}()
	own := map[*space]bool{}
	for _, req := range group {
		m := g.meta(req.run.space)
		own[req.run.space] = own[req.run.space] || req.own()
		for i := range req.updates {
			if err := g.merge(req.run, m, &req.updates[i]); err != nil {
				return err
			}
		}
		for i := range req.records {
			if err := g.replace(req.run, m, &req.records[i]); err != nil {
				return err
			}
		}
		if err := g.events(req); err != nil {
			return err
		}
	}
	for sp, m := range g.metas {
		if own[sp] {
			m.LastRun, m.LastCommit = l.opts.RunID, g.now
		}
		b, _ := json.Marshal(m)
		_ = g.b.Set(nsKey(sp.id), b, nil)
	}
	_ = g.b.Set(keyVersion, binary.AppendUvarint(nil, g.version), nil)
	if err := l.db.Apply(g.b, pebble.Sync); err != nil {
		return fmt.Errorf("committing state: %w", err)
	}
	g.publish()
	return nil
}

// meta returns the group's working copy of sp's description.
func (g *groupWrite) meta(sp *space) *nsMeta {
	if m, ok := g.metas[sp]; ok {
		return m
	}
	sp.mu.Lock()
	m := sp.meta
	sp.mu.Unlock()
	m.Attrs = append([]string(nil), m.Attrs...)
	g.metas[sp] = &m
	return &m
}

// publish makes a durable group visible: descriptions, attribute names, seen users, version.
func (g *groupWrite) publish() {
	for sp, m := range g.metas {
		for name, id := range g.newIDs[sp] {
			sp.ids[name] = id
		}
		names := append([]string(nil), m.Attrs...)
		sp.names.Store(&names)
		sp.mu.Lock()
		sp.meta = *m
		sp.mu.Unlock()
	}
	for rn, ordinals := range g.seen {
		rn.markSeen(ordinals...)
	}
	g.l.version.Store(g.version)
}

// attrID returns the index of name in the namespace's attribute names, adding it if new.
func (g *groupWrite) attrID(sp *space, m *nsMeta, name string) uint32 {
	if id, ok := sp.ids[name]; ok {
		return id
	}
	ids := g.newIDs[sp]
	if ids == nil {
		ids = map[string]uint32{}
		g.newIDs[sp] = ids
	}
	if id, ok := ids[name]; ok {
		return id
	}
	id := uint32(len(m.Attrs))
	m.Attrs = append(m.Attrs, name)
	ids[name] = id
	return id
}

// load reads the current record of user into g.old; false when there is none. absent is the
// caller's word that the user has no record (Update.New), which spares the read when trusted.
func (g *groupWrite) load(sp *space, user []byte, absent bool) (bool, error) {
	g.key = sp.fullKey(g.key, user)
	if v, deleted, ok := g.stage.get(g.key); ok {
		if deleted {
			return false, nil
		}
		return true, decodeRecord(v, &g.old)
	}
	if absent && g.trustNew {
		return false, nil
	}
	// One iterator for the group: the group's users mostly arrive in the source's order, so its
	// seeks stay within cached blocks, where a point read per user would start afresh each time.
	if g.it == nil {
		it, err := g.l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kindUser}, UpperBound: []byte{kindUser + 1}})
		if err != nil {
			return false, g.l.readErr(sp.ns, err)
		}
		g.it = it
	}
	if !g.it.SeekPrefixGE(g.key) || !bytes.Equal(g.it.Key(), g.key) {
		if err := g.it.Error(); err != nil {
			return false, g.l.readErr(sp.ns, err)
		}
		return false, nil
	}
	v, err := g.it.ValueAndErr()
	if err != nil {
		return false, g.l.readErr(sp.ns, err)
	}
	if err := decodeRecord(v, &g.old); err != nil {
		return false, corrupt(g.l.dir, fmt.Errorf("a record of %s: %w", sp.ns, err))
	}
	return true, nil
}

// merge applies one accepted update to the user's record.
func (g *groupWrite) merge(rn *run, m *nsMeta, u *Update) error {
	sp := rn.space
	found, err := g.load(sp, u.Key, u.New)
	if err != nil {
		return err
	}
	r := &g.old
	if !found {
		*r = raw{ordinal: m.NextOrdinal, attrs: r.attrs[:0]}
		m.NextOrdinal++
		m.Users++
	}
	for _, a := range u.Attrs {
		id := g.attrID(sp, m, a.Name)
		k := sort.Search(len(r.attrs), func(i int) bool { return r.attrs[i].id >= id })
		if k < len(r.attrs) && r.attrs[k].id == id {
			r.attrs[k].hash, r.attrs[k].sentAt = a.Hash, a.SentAt
			continue
		}
		r.attrs = append(r.attrs, rawAttr{})
		copy(r.attrs[k+1:], r.attrs[k:])
		r.attrs[k] = rawAttr{id: id, hash: a.Hash, sentAt: a.SentAt}
	}
	switch u.Flag {
	case FlagSet:
		if !r.flagged {
			m.Flagged++
		}
		r.flagged, r.flaggedAt = true, u.SentAt
	case FlagClear:
		if r.flagged {
			m.Flagged--
		}
		r.flagged, r.flaggedAt = false, 0
	}
	g.write(rn, r)
	return nil
}

// replace writes rec as the user's whole record (Import); an empty one deletes the user.
func (g *groupWrite) replace(rn *run, m *nsMeta, rec *Record) error {
	sp := rn.space
	found, err := g.load(sp, rec.Key, false)
	if err != nil {
		return err
	}
	r := &g.old
	if found && r.flagged {
		m.Flagged--
	}
	if len(rec.Attrs) == 0 && !rec.Flagged {
		if found {
			m.Users--
			_ = g.b.Delete(g.key, nil)
			g.stage.remove(g.key)
		}
		return nil
	}
	if !found {
		r.ordinal = m.NextOrdinal
		m.NextOrdinal++
		m.Users++
	}
	r.flagged, r.flaggedAt = rec.Flagged, rec.FlaggedAt
	if rec.Flagged {
		m.Flagged++
	}
	r.attrs = r.attrs[:0]
	for _, a := range rec.Attrs {
		r.attrs = append(r.attrs, rawAttr{id: g.attrID(sp, m, a.Name), hash: a.Hash, sentAt: a.SentAt})
	}
	sort.Slice(r.attrs, func(i, j int) bool { return r.attrs[i].id < r.attrs[j].id })
	g.write(rn, r)
	return nil
}

// write stages r under g.key at the group's version.
func (g *groupWrite) write(rn *run, r *raw) {
	r.version = g.version
	g.enc = encodeRecord(g.enc[:0], r)
	_ = g.b.Set(g.key, g.enc, nil) // copies
	g.stage.set(g.key, g.enc)
	g.seen[rn] = append(g.seen[rn], r.ordinal)
}

func sortStrings(s []string) { sort.Strings(s) }

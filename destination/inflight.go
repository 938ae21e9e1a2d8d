package destination

import (
	"context"
	"sync"
)

// inflight is the set of users with a request queued or on the wire. /users/track is asynchronous and
// two overlapping requests for one user can be applied in either order (docs/braze-api.md §3.4), so a
// user's next object is only dispatched once the previous request for that user has ended and its
// answer is recorded. The set holds at most (queue + 2 × workers) × batch_size keys (a worker's
// batch on the wire and its previous one being recorded): memory is bounded by configuration, not
// by the run.
//
// Users are identified by the hash of their key (userKey). Two users whose hashes collide count as
// one: the second waits for the first's request to end, which delays it but can never put two
// requests for one user in flight together.
type inflight struct {
	mu   sync.Mutex
	keys keySet
	// The writer (one goroutine) waits when every object of a batch is in flight. wanted holds those
	// objects' hashes, and changed is closed by the first release of one of them: releases of other
	// users wake nobody, and no channel is made while nobody waits.
	wanted  map[uint64]struct{}
	changed chan struct{}
}

func newInflight() *inflight {
	return &inflight{wanted: map[uint64]struct{}{}}
}

// claim splits b: objects whose user is not in flight stay in b and are marked in flight; the others
// move to the returned batch (nil if none). When every object is busy, b is left empty and the
// returned channel is closed once one of their users is released, so the caller can wait for it;
// otherwise the channel is nil.
func (f *inflight) claim(b *batch) (rest *batch, changed <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rest = b.split(f.keys.has)
	for i := range b.entries {
		f.keys.add(b.entries[i].hash)
	}
	if b.len() > 0 || rest == nil {
		return rest, nil
	}
	clear(f.wanted)
	for i := range rest.entries {
		f.wanted[rest.entries[i].hash] = struct{}{}
	}
	f.changed = make(chan struct{})
	return rest, f.changed
}

// release ends the flight of every object of b, waking the writer if it waits for one of them.
func (f *inflight) release(b *batch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	wake := false
	for i := range b.entries {
		h := b.entries[i].hash
		f.keys.remove(h)
		if f.changed != nil {
			_, w := f.wanted[h]
			wake = wake || w
		}
	}
	if wake {
		close(f.changed)
		f.changed = nil
		clear(f.wanted)
	}
}

// wait blocks until changed is closed or a context ends.
func wait(ctx, runCtx context.Context, changed <-chan struct{}) error {
	select {
	case <-changed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-runCtx.Done():
		return runCtx.Err()
	}
}

package destination

import (
	"context"
	"sync"
)

// inflight is the set of users with a request queued or on the wire. /users/track is asynchronous and
// two overlapping requests for one user can be applied in either order (braze-api.md §3.4), so a
// user's next object is only dispatched once the previous request for that user has ended. The set
// holds at most (queue + workers) × batch_size keys: memory is bounded by configuration, not by the
// run.
type inflight struct {
	mu      sync.Mutex
	keys    map[string]struct{}
	changed chan struct{} // closed and replaced whenever keys are released
}

func newInflight() *inflight {
	return &inflight{keys: map[string]struct{}{}, changed: make(chan struct{})}
}

// claim splits b: objects whose user is not in flight stay in b and are marked in flight; the others
// move to the returned batch (nil if none). When every object is busy, b is left empty and the
// returned channel is closed at the next release, so the caller can wait for it.
func (f *inflight) claim(b *batch) (rest *batch, changed <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rest = b.split(func(key string) bool { _, busy := f.keys[key]; return busy })
	for i := range b.entries {
		f.keys[b.entries[i].key] = struct{}{}
	}
	return rest, f.changed
}

// release ends the flight of every object of b.
func (f *inflight) release(b *batch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range b.entries {
		delete(f.keys, b.entries[i].key)
	}
	close(f.changed)
	f.changed = make(chan struct{})
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

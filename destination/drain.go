package destination

import (
	"context"

	"github.com/brazesync/brazesync/destination/brazeapi"
)

// workContext is the workers' context, cancelled by Abort, and the drain that Drain ends: requests
// sent under it start no new attempt once drained (brazeapi.WithDrain).
func workContext() (ctx context.Context, cancel, drain context.CancelFunc) {
	drainCtx, drain := context.WithCancel(context.Background())
	ctx, cancel = context.WithCancel(brazeapi.WithDrain(context.Background(), drainCtx))
	return ctx, cancel, drain
}

// Drain is the first step of a graceful shutdown: from now on no request starts. Batches queued
// or still open, rows written after it, requests waiting for the rate limiter and retries are
// dead-lettered as run_cancelled; a request already on the wire runs to its answer and is
// accounted for as usual, so a user Braze accepted is counted as sent. The run ends cancelled.
// Close must still be called; Abort, later, ends the requests on the wire too.
func (w *Writer) Drain() {
	w.fatalMu.Lock()
	w.aborted = true
	w.fatalMu.Unlock()
	w.drain()
}

// Drain starts no new request: see Writer.Drain.
func (s *Session) Drain() { s.w.Drain() }

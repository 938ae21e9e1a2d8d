package report

import (
	"sync"
	"time"
)

// Tally accumulates a Report from many goroutines. Writers add whole batches at a time, so one
// mutex is cheap enough and keeps the maps consistent with the totals.
type Tally struct {
	mu sync.Mutex
	r  *Report
}

// NewTally starts a tally for a run.
func NewTally(runID string, started time.Time) *Tally {
	return &Tally{r: New(runID, started)}
}

// Update runs fn with exclusive access to the report being built.
func (t *Tally) Update(fn func(r *Report)) {
	t.mu.Lock()
	fn(t.r)
	t.mu.Unlock()
}

// Snapshot returns a deep copy of the report so far, with duration and rate derived at now.
func (t *Tally) Snapshot(now time.Time) *Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := *t.r
	c.RowsSkipped = clone(t.r.RowsSkipped)
	c.RowsRejected = clone(t.r.RowsRejected)
	c.MinorErrors = clone(t.r.MinorErrors)
	c.RemovalsRefused = cloneSet(t.r.RemovalsRefused)
	c.RemovalsRejected = cloneSet(t.r.RemovalsRejected)
	c.Notes = append([]string(nil), t.r.Notes...)
	c.derive(now)
	return &c
}

func clone(m map[string]int64) map[string]int64 {
	c := make(map[string]int64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

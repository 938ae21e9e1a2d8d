package report

import (
	"fmt"
	"strings"
)

// Removals (mirror mode) are counted apart from rows: a removal is sent to a user the source no
// longer returns, so it is no row read, and the rows-read balance stays as it is.

// RemovalsTotal is every user mirror mode dealt with: removed, planned, refused or rejected.
func (r *Report) RemovalsTotal() int64 {
	return r.UsersRemoved + r.RemovalsPlanned + sum(r.RemovalsRefused) + sum(r.RemovalsRejected)
}

// AddRefused counts n users whose removal the guard refused.
func (r *Report) AddRefused(guard string, n int64) {
	r.RemovalsRefused = addTo(r.RemovalsRefused, guard, n)
}

// AddRemovalRejected counts n removal objects Braze did not apply, dead-lettered for reason.
func (r *Report) AddRemovalRejected(reason string, n int64) {
	r.RemovalsRejected = addTo(r.RemovalsRejected, reason, n)
}

// addTo adds n to m[k], making m when needed (it is omitted from the JSON while nil).
func addTo(m map[string]int64, k string, n int64) map[string]int64 {
	if n == 0 {
		return m
	}
	if m == nil {
		m = map[string]int64{}
	}
	m[k] += n
	return m
}

func (r *Report) mergeRemovals(o *Report) {
	r.UsersRemoved += o.UsersRemoved
	r.RemovalsPlanned += o.RemovalsPlanned
	r.RemovalsQueued += o.RemovalsQueued
	for k, v := range o.RemovalsRefused {
		r.AddRefused(k, v)
	}
	for k, v := range o.RemovalsRejected {
		r.AddRemovalRejected(k, v)
	}
	if o.Phase != "" {
		r.Phase = o.Phase
	}
}

// removalSummary writes the mirror-mode lines of Summary, when there is anything to say.
func (r *Report) removalSummary(b *strings.Builder) {
	if r.RemovalsTotal() == 0 {
		return
	}
	fmt.Fprintf(b, "  users removed:  %d (mirror mode: the label taken from users no longer in the query)\n", r.UsersRemoved)
	if r.RemovalsPlanned > 0 {
		fmt.Fprintf(b, "  removals planned: %d (dry run: written to the payloads file, not sent)\n", r.RemovalsPlanned)
	}
	if n := sum(r.RemovalsRefused); n > 0 {
		fmt.Fprintf(b, "  removals refused: %d%s\n", n, byReason(r.RemovalsRefused))
	}
	if n := sum(r.RemovalsRejected); n > 0 {
		fmt.Fprintf(b, "  removals rejected: %d%s (dead-lettered)\n", n, byReason(r.RemovalsRejected))
	}
}

// cloneSet copies m, keeping nil as nil.
func cloneSet(m map[string]int64) map[string]int64 {
	if m == nil {
		return nil
	}
	return clone(m)
}

// PhaseRemoving is Phase while mirror mode sends its removals.
const PhaseRemoving = "removing"

// RemovalsRejectedTotal is the total of RemovalsRejected.
func (r *Report) RemovalsRejectedTotal() int64 { return sum(r.RemovalsRejected) }

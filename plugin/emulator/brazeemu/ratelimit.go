package brazeemu

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimiter is a fixed-window counter per (endpoint, key): the window opens at the
// first request and lasts its configured length; every request in it, accepted or
// not, takes one unit (docs/braze-api.md §1.6). A map lookup under one short mutex keeps it
// cheap.
type rateLimiter struct {
	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start time.Time
	used  int
}

// rateState is what the X-RateLimit-* headers report.
type rateState struct {
	limit     int
	remaining int
	reset     time.Time
	limited   bool
}

func newRateLimiter() *rateLimiter {
	return &rateLimiter{windows: map[string]*window{}}
}

func (r *rateLimiter) reset() {
	r.mu.Lock()
	r.windows = map[string]*window{}
	r.mu.Unlock()
}

// take counts one request for bucket and reports the state after it. A limit below 0
// disables limiting (ok is always true and no headers are set).
func (r *rateLimiter) take(bucket string, limit int, length time.Duration, now time.Time) (rateState, bool) {
	if limit < 0 {
		return rateState{}, false
	}
	r.mu.Lock()
	w := r.windows[bucket]
	if w == nil || !now.Before(w.start.Add(length)) {
		w = &window{start: now}
		r.windows[bucket] = w
	}
	w.used++
	st := rateState{
		limit:     limit,
		remaining: max(0, limit-w.used),
		reset:     w.start.Add(length),
		limited:   w.used > limit,
	}
	r.mu.Unlock()
	return st, true
}

// setHeaders writes X-RateLimit-Limit/Remaining/Reset; Reset is UTC epoch seconds,
// rounded up so a client sleeping until it never wakes inside the old window.
func (st rateState) setHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(st.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(st.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(st.reset), 10))
}

func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

package brazeapi

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Limiter paces requests under Braze's per-workspace limit (3,000 requests per 3 s for /users/track,
// braze-api.md §1.6). It is a token bucket whose rate leaves room for its own burst, so that a fixed
// server window never sees more than the limit, and it also obeys the X-RateLimit-* headers Braze
// returns: when another process sharing the key has drained the window, Remaining reaches 0 and every
// request here waits for Reset instead of fighting for it.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration // time per token
	burst    float64
	tokens   float64
	last     time.Time
	pauseTil time.Time // from headers: no request before this
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
}

// NewLimiter allows n requests per window. n <= 0 disables pacing (headers are still obeyed).
func NewLimiter(n int, window time.Duration) *Limiter {
	l := &Limiter{now: time.Now, sleep: sleepCtx}
	if n <= 0 || window <= 0 {
		return l
	}
	// A burst of 1/30 of the window's budget, and a steady rate that leaves room for it: at most
	// n requests land in any window of length `window`.
	l.burst = float64(max(1, n/30))
	l.interval = time.Duration(float64(window) / (float64(n) - l.burst + 1))
	l.tokens = l.burst
	return l
}

// Wait blocks until a request may be sent, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		d := l.reserve()
		if d <= 0 {
			return nil
		}
		if err := l.sleep(ctx, d); err != nil {
			return err
		}
	}
}

// reserve takes a token if one is available and returns 0, else how long to wait before trying again.
func (l *Limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Before(l.pauseTil) {
		return l.pauseTil.Sub(now)
	}
	if l.interval == 0 {
		return 0
	}
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+float64(now.Sub(l.last))/float64(l.interval))
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	return time.Duration((1 - l.tokens) * float64(l.interval))
}

// Observe reads the rate-limit headers of an answer. When the window is exhausted (Remaining 0, or a
// 429) nothing is sent until Reset, an epoch second; a reset too far away is capped, so that a
// broken header cannot stall a run forever.
func (l *Limiter) Observe(status int, remaining, reset string) {
	rem, errRem := strconv.Atoi(remaining)
	exhausted := status == 429 || (errRem == nil && rem <= 0)
	if !exhausted {
		return
	}
	now := l.now()
	until := now.Add(time.Second) // Braze gave no usable Reset: wait a second
	if sec, err := strconv.ParseInt(reset, 10, 64); err == nil {
		until = time.Unix(sec, 0)
		if until.Before(now) {
			until = now.Add(50 * time.Millisecond)
		}
	}
	if until.Sub(now) > maxResetWait {
		until = now.Add(maxResetWait)
	}
	l.mu.Lock()
	if until.After(l.pauseTil) {
		l.pauseTil = until
	}
	l.mu.Unlock()
}

// maxResetWait caps how long one X-RateLimit-Reset can pause the client.
const maxResetWait = 60 * time.Second

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

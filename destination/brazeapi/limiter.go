package brazeapi

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Pacing constants. Braze counts requests in fixed windows (braze-api.md §1.6); the limiter keeps a
// little of each window unused so that jitter between when we send and when Braze counts never tips
// a window over the limit.
const (
	// headroomShare of the limit is never planned for: 2.5 % (75 of 3,000).
	headroomShare = 40
	// burstShare of the limit may go out at once after an idle spell: 1 % (30 of 3,000).
	burstShare = 100
	// maxResetWait caps how long one X-RateLimit-Reset can pause the client, so that a broken header
	// cannot stall a run forever.
	maxResetWait = 60 * time.Second
)

// Limiter paces requests under Braze's per-workspace limit (3,000 requests per 3 s for /users/track,
// braze-api.md §1.6) and follows the X-RateLimit-* headers of every answer.
//
// Its own pace is a token bucket: a burst of 1 % of the limit and a steady rate such that no window
// of the given length ever holds more than limit minus 2.5 % of our requests. A single brazesync
// therefore runs at about 96 % of the limit and never sees a 429 from its own traffic.
//
// The headers tell it about everybody else who uses the key (several brazesync processes, Cloud Data
// Ingestion, other tools). Braze's advice is to slow down as Remaining gets low and to pause until
// Reset when it reaches 0; the limiter does both:
//   - Remaining at or below the low-water mark (a quarter of the headroom) or a 429: no request
//     until Reset;
//   - Remaining at or below the slow-down mark (three quarters of the headroom): half speed until an
//     answer shows more.
//
// Our own traffic alone leaves at least the headroom in every window, so these only fire when the key
// is shared; then every process backs off until the window resets instead of fighting over it.
type Limiter struct {
	mu       sync.Mutex
	window   time.Duration
	interval time.Duration // time per token at full speed; 0: no client-side pacing
	burst    float64
	tokens   float64
	last     time.Time
	pauseTil time.Time // from headers: no request before this
	slow     bool      // Remaining was low in the last answer: half speed
	lowWater int       // pause at or below this Remaining
	slowMark int       // slow down at or below this Remaining

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// NewLimiter allows n requests per window. n <= 0 disables the client's own pacing (the headers are
// still obeyed).
func NewLimiter(n int, window time.Duration) *Limiter {
	return newLimiter(n, window, time.Now, sleepCtx)
}

func newLimiter(n int, window time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) *Limiter {
	if window <= 0 {
		window = 3 * time.Second
	}
	l := &Limiter{window: window, now: now, sleep: sleep}
	if n <= 0 {
		return l
	}
	headroom := max(1, n/headroomShare)
	l.burst = float64(max(1, n/burstShare))
	planned := float64(n-headroom) - l.burst // tokens earned in one window
	if planned < 1 {
		planned = 1
	}
	l.interval = time.Duration(float64(window) / planned)
	l.tokens = l.burst
	l.lowWater = headroom / 4
	l.slowMark = headroom * 3 / 4
	return l
}

// Rate is the steady requests per second the limiter allows at full speed (0 when unpaced).
func (l *Limiter) Rate() float64 {
	if l.interval == 0 {
		return 0
	}
	return float64(time.Second) / float64(l.interval)
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
	interval := l.interval
	if l.slow {
		interval *= 2
	}
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+float64(now.Sub(l.last))/float64(interval))
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	return time.Duration((1 - l.tokens) * float64(interval))
}

// Observe reads the rate-limit headers of an answer (braze-api.md §1.6). When the window is (nearly)
// exhausted, nothing is sent until Reset, an epoch second; without a usable Reset it waits one window.
func (l *Limiter) Observe(status int, remaining, reset string) {
	rem, errRem := strconv.Atoi(remaining)
	known := errRem == nil
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if known && l.slowMark > 0 {
		l.slow = rem <= l.slowMark
	}
	if status != 429 && (!known || rem > l.lowWater) {
		return
	}
	until := now.Add(l.window)
	if sec, err := strconv.ParseInt(reset, 10, 64); err == nil {
		until = time.Unix(sec, 0)
		if !until.After(now) {
			// Reset already passed on our clock (skew, or the header rounds down): a short pause
			// keeps the retry from landing in the same window.
			until = now.Add(min(l.window/10, time.Second))
		}
	}
	// Reset is a whole second, rounded up, so it can lie up to a second past the window's real end.
	// A window that is still open started at most one window ago and so ends within one window: a
	// low-water pause needs no more. A 429 waits for Reset itself, in case the configured window is
	// shorter than the server's.
	if status != 429 && until.Sub(now) > l.window {
		until = now.Add(l.window)
	}
	if until.Sub(now) > maxResetWait {
		until = now.Add(maxResetWait)
	}
	if until.After(l.pauseTil) {
		l.pauseTil = until
	}
}

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

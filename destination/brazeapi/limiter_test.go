package brazeapi

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// fakeClock is a clock whose sleeps advance time instantly: pacing is checked without waiting.
type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) now() time.Time { return c.t }

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.t = c.t.Add(d)
	return nil
}

// TestLimiterNeverExceedsWindow: in every window of the configured length, the limiter lets through
// at most the limit minus its headroom, and over a long run it stays within 5 % of the limit.
func TestLimiterNeverExceedsWindow(t *testing.T) {
	for _, tc := range []struct {
		n      int
		window time.Duration
	}{{3000, 3 * time.Second}, {300, 300 * time.Millisecond}, {50, time.Second}, {1, time.Second}} {
		clk := newFakeClock()
		l := newLimiter(tc.n, tc.window, clk.now, clk.sleep)
		var sent []time.Time
		for range 5 * tc.n {
			if err := l.Wait(t.Context()); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, clk.now())
		}
		j := 0
		for i := range sent {
			for sent[i].Sub(sent[j]) >= tc.window {
				j++
			}
			if i-j+1 > tc.n {
				t.Fatalf("limit %d/%v: %d requests within one window ending at %v", tc.n, tc.window, i-j+1, sent[i])
			}
		}
		elapsed := sent[len(sent)-1].Sub(sent[0])
		rate := float64(len(sent)-1) / elapsed.Seconds()
		limit := float64(tc.n) / tc.window.Seconds()
		if tc.n >= 300 {
			assert.InDelta(t, limit, rate, limit*0.05, "limit %d/%v: rate %.1f/s", tc.n, tc.window, rate)
		}
	}
}

// TestLimiterFollowsHeaders: Remaining at the low-water mark or a 429 pauses until Reset; a low
// Remaining halves the pace; plentiful Remaining restores it; Reset is capped.
func TestLimiterFollowsHeaders(t *testing.T) {
	clk := newFakeClock()
	l := newLimiter(3000, 3*time.Second, clk.now, clk.sleep)
	reset := func(d time.Duration) string { return strconv.FormatInt(clk.now().Add(d).Unix(), 10) }

	// A 429 waits for Reset, even beyond one window.
	l.Observe(429, "0", reset(5*time.Second))
	start := clk.now()
	assert.NoError(t, l.Wait(t.Context()))
	assert.Equal(t, 5*time.Second, clk.now().Sub(start))

	// Remaining at the low-water mark pauses, but never longer than one window (Reset is rounded
	// up to a whole second).
	l.Observe(201, strconv.Itoa(l.lowWater), reset(10*time.Second))
	start = clk.now()
	assert.NoError(t, l.Wait(t.Context()))
	assert.Equal(t, 3*time.Second, clk.now().Sub(start))

	// Low but above the low-water mark: half speed.
	drain := func() time.Duration {
		for l.tokens >= 1 {
			l.tokens--
		}
		s := clk.now()
		for range 100 {
			_ = l.Wait(t.Context())
		}
		return clk.now().Sub(s)
	}
	l.Observe(201, "2000", reset(time.Second)) // plenty left: full speed
	full := drain()
	l.Observe(201, strconv.Itoa(l.slowMark), reset(time.Second))
	slow := drain()
	assert.InDelta(t, 2*full.Seconds(), slow.Seconds(), full.Seconds()*0.05)
	l.Observe(201, "2000", reset(time.Second))
	assert.InDelta(t, full.Seconds(), drain().Seconds(), full.Seconds()*0.05)

	// A broken Reset far in the future is capped; one in the past barely pauses.
	l.Observe(429, "0", reset(24*time.Hour))
	start = clk.now()
	_ = l.Wait(t.Context())
	assert.Equal(t, maxResetWait, clk.now().Sub(start))
	l.Observe(429, "0", reset(-time.Hour))
	start = clk.now()
	_ = l.Wait(t.Context())
	assert.LessOrEqual(t, clk.now().Sub(start), time.Second)

	// A 429 without headers waits one window.
	l.Observe(429, "", "")
	start = clk.now()
	_ = l.Wait(t.Context())
	assert.Equal(t, 3*time.Second, clk.now().Sub(start))
}

// TestLimiterUnpacedStillObeysHeaders: rate_limit -1 sends at once, yet pauses on a 429.
func TestLimiterUnpacedStillObeysHeaders(t *testing.T) {
	clk := newFakeClock()
	l := newLimiter(-1, 3*time.Second, clk.now, clk.sleep)
	for range 10_000 {
		_ = l.Wait(t.Context())
	}
	assert.Equal(t, time.Duration(0), clk.now().Sub(time.Unix(1_700_000_000, 0)))
	l.Observe(429, "0", strconv.FormatInt(clk.now().Add(2*time.Second).Unix(), 10))
	_ = l.Wait(t.Context())
	assert.Equal(t, 2*time.Second, clk.now().Sub(time.Unix(1_700_000_000, 0)))
}

// TestLimiterWaitIsCancellable: a context that ends stops the wait.
func TestLimiterWaitIsCancellable(t *testing.T) {
	l := NewLimiter(1, time.Hour)
	_ = l.Wait(t.Context()) // the one token
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, l.Wait(ctx), context.Canceled)
}

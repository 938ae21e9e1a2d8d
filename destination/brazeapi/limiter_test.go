package brazeapi

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// TestLimiterNeverExceedsWindow: with no headers (the blind pace), in every window of the configured
// length the limiter lets through at most the limit, and over a long run it stays within 5 % of it.
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

// TestLimiterSharesKey: one, two and three processes on one key, each configured for the whole
// limit, against a server counting like Braze. Together they use nearly the whole limit, get (almost)
// no 429s, and each gets about its fair share. Time is simulated, so this is exact and instant.
func TestLimiterSharesKey(t *testing.T) {
	for _, tc := range []struct {
		limit   int
		window  time.Duration
		latency time.Duration
		windows int
		workers int
	}{{300, 300 * time.Millisecond, time.Millisecond, 20, 16}, {3000, 3 * time.Second, time.Millisecond, 8, 8}} {
		for _, n := range []int{1, 2, 3} {
			sim := newKeySim(tc.limit, tc.window, tc.latency)
			var procs []*simProc
			for i := range n {
				procs = append(procs, sim.newProc(tc.limit, tc.window, tc.workers, time.Duration(i)*time.Millisecond))
			}
			windows := tc.windows
			start := sim.clk.now()
			sim.run(time.Duration(windows)*tc.window, procs...)
			end := sim.clk.now()
			total, limited := 0, 0
			for _, p := range procs {
				total += p.acceptedIn(start, end)
				limited += p.limited
			}
			name := fmt.Sprintf("%d/%v, %d processes", tc.limit, tc.window, n)
			share := float64(total) / float64(windows*tc.limit)
			assert.GreaterOrEqual(t, share, 0.95, "%s: share of the limit", name)
			if n == 1 {
				assert.Zero(t, limited, "%s: 429s", name)
			}
			assert.Less(t, float64(limited)/float64(total+limited), 0.01, "%s: 429s", name)
			// Fair share over the second half, once the shares have settled.
			mid := start.Add(time.Duration(windows/2) * tc.window)
			half := 0
			for _, p := range procs {
				half += p.acceptedIn(mid, end)
			}
			for i, p := range procs {
				assert.InDelta(t, 1/float64(n), float64(p.acceptedIn(mid, end))/float64(half), 0.05, "%s: process %d's share", name, i)
			}
		}
	}
}

// TestLimiterLateJoinerConverges: a process that starts while another has the key to itself gets its
// fair share within a few windows, and the pair neither loses throughput nor fights.
func TestLimiterLateJoinerConverges(t *testing.T) {
	const limit, window = 300, 300 * time.Millisecond
	sim := newKeySim(limit, window, time.Millisecond)
	a := sim.newProc(limit, window, 16, 0)
	b := sim.newProc(limit, window, 16, 10*window)
	start := sim.clk.now()
	sim.run(40*window, a, b)
	at := func(w int) time.Time { return start.Add(time.Duration(w) * window) }
	assert.GreaterOrEqual(t, a.acceptedIn(at(1), at(10)), 9*limit*95/100, "alone, a uses the key")
	// The shares settle around a half within about ten windows, then swing a little around it.
	late := b.acceptedIn(at(20), at(40))
	both := late + a.acceptedIn(at(20), at(40))
	assert.InDelta(t, 0.5, float64(late)/float64(both), 0.05, "b's share from 10 windows after it joined")
	assert.GreaterOrEqual(t, both, 20*limit*95/100, "together they still use the key")
	assert.Less(t, a.limited+b.limited, 40*limit/100, "429s")
}

// TestLimiterWithoutHeaders: answers without rate-limit headers leave the blind pace in charge, which
// alone never overruns a window.
func TestLimiterWithoutHeaders(t *testing.T) {
	const limit, window = 300, 300 * time.Millisecond
	sim := newKeySim(limit, window, time.Millisecond)
	p := sim.newProc(limit, window, 16, 0)
	p.noHeader = true
	start := sim.clk.now()
	sim.run(10*window, p)
	assert.Zero(t, p.limited)
	assert.InDelta(t, 0.96, float64(p.acceptedIn(start, sim.clk.now()))/(10*limit), 0.02)
	assert.False(t, p.l.win.known)
}

// TestLimiterWindowModel walks the window model through single answers (limit 300 per 0.3 s).
func TestLimiterWindowModel(t *testing.T) {
	clk := newFakeClock()
	clk.t = clk.t.Add(200 * time.Millisecond)
	l := newLimiter(300, 300*time.Millisecond, clk.now, clk.sleep)
	hdr := func(remaining int) rateHeaders {
		// Reset rounded up to the next second: no help against a 0.3 s window here.
		return rateHeaders{limit: 300, remaining: remaining, reset: clk.now().Unix() + 1, hasLimit: true, hasRemaining: true, hasReset: true}
	}
	later := func(d time.Duration) { clk.t = clk.t.Add(d) }
	send := func() ticket {
		for {
			tk, d := l.reserve()
			if d == 0 {
				return tk
			}
			later(d)
		}
	}
	// minSpan(n): after a burst of 3 (1 %), n requests take at least (n-3)/(2·300/0.3 s).
	minSpan := func(n int) time.Duration { return time.Duration(n-3) * time.Millisecond / 2 }

	// Joining mid-window: Remaining 100 says 200 are used, so the window opened at least
	// minSpan(199) before this answer.
	a := send()
	later(time.Millisecond)
	l.observe(a, 201, hdr(100))
	require.True(t, l.win.known)
	assert.Equal(t, 200, l.win.used)
	assert.Equal(t, clk.now().Add(-minSpan(199)), l.win.start)
	assert.Equal(t, l.win.start.Add(300*time.Millisecond), l.win.end)

	// Higher counts update it.
	b := send()
	later(time.Millisecond)
	l.observe(b, 201, hdr(90))
	assert.Equal(t, 210, l.win.used)
	assert.Equal(t, 2, l.win.ours())

	// Remaining jumps up for a request sent after the highest count was seen: a new window, which
	// opened at the latest when this answer arrived (2 is within a burst).
	c := send()
	later(time.Millisecond)
	l.observe(c, 201, hdr(298))
	assert.Equal(t, 2, l.win.used)
	assert.Equal(t, clk.now(), l.win.start)
	assert.Equal(t, 210, l.win.prevUsed)
	assert.Less(t, l.share, 0.2, "2 of 210: others use the key")

	// A late answer of the old window (sent before the new one was seen, count near the old total)
	// is ignored; a late answer counted early in the new window is kept.
	l.observe(ticket{seq: a.seq, at: a.at}, 201, hdr(80))
	assert.Equal(t, 2, l.win.used)
	l.observe(ticket{seq: b.seq, at: b.at}, 201, hdr(297))
	assert.Equal(t, 3, l.win.used)

	// The budget (300 less 1 %) spent: no request until the window's end at the latest.
	d := send()
	later(time.Millisecond)
	l.observe(d, 201, hdr(3))
	_, wait := l.reserve()
	assert.Equal(t, l.win.end.Sub(clk.now()), wait)

	// A request sent after that end whose count cannot have built up since then: the window was
	// still open, and gets one more round trip.
	later(wait)
	e := send()
	later(2 * time.Millisecond)
	l.observe(e, 201, hdr(2))
	assert.Equal(t, 298, l.win.used)
	assert.Equal(t, clk.now().Add(2*time.Millisecond), l.win.end)
	// So does a 429 just after the window's end.
	later(2 * time.Millisecond)
	e = send()
	later(time.Millisecond)
	l.observe(e, 429, hdr(0))
	assert.Equal(t, 300, l.win.used)
	assert.Equal(t, clk.now().Add(time.Millisecond), l.win.end)

	// A request sent after the new end with a low count: the next window.
	later(2 * time.Millisecond)
	f := send()
	later(time.Millisecond)
	l.observe(f, 201, hdr(290))
	assert.Equal(t, 10, l.win.used)
	assert.Equal(t, f.seq, l.win.usedSeq)
	assert.Equal(t, f.seq, l.win.firstSeq)
	assert.Equal(t, clk.now().Add(-minSpan(9)), l.win.start)
}

// TestLimiter429: with headers, a 429 holds requests until the model's window end; when Reset says
// the server's window is longer than the configured one, until Reset; Reset far off is capped.
func TestLimiter429(t *testing.T) {
	clk := newFakeClock()
	l := newLimiter(300, 300*time.Millisecond, clk.now, clk.sleep)
	tk, _ := l.reserve()
	clk.t = clk.t.Add(time.Millisecond)
	l.observe(tk, 429, rateHeaders{limit: 300, remaining: 0, reset: clk.now().Unix() + 1, hasLimit: true, hasRemaining: true, hasReset: true})
	// 300 used: the window opened at least (299-3)/2 ms before this answer.
	assert.Equal(t, clk.now().Add(-148*time.Millisecond+300*time.Millisecond), l.win.end)
	start := clk.now()
	require.NoError(t, l.Wait(t.Context()))
	assert.Equal(t, 152*time.Millisecond, clk.now().Sub(start), "the model's end")

	tk, _ = l.reserve()
	clk.t = clk.t.Add(time.Millisecond)
	l.observe(tk, 429, rateHeaders{limit: 300, remaining: 0, reset: clk.now().Unix() + 3, hasLimit: true, hasRemaining: true, hasReset: true})
	start = clk.now()
	require.NoError(t, l.Wait(t.Context()))
	assert.Equal(t, time.Unix(start.Unix()+3, 0), clk.now(), "Reset, 3 s on")

	tk, _ = l.reserve()
	l.observe(tk, 429, rateHeaders{limit: 300, remaining: 0, reset: clk.now().Unix() + 86400, hasLimit: true, hasRemaining: true, hasReset: true})
	start = clk.now()
	require.NoError(t, l.Wait(t.Context()))
	assert.Equal(t, maxResetWait, clk.now().Sub(start), "capped")

	// Without headers, a 429 waits one window; with only Reset in the past, a short pause.
	l.Observe(429, "", "")
	start = clk.now()
	require.NoError(t, l.Wait(t.Context()))
	assert.Equal(t, 300*time.Millisecond, clk.now().Sub(start))
	l.Observe(429, "", strconv.FormatInt(clk.now().Add(-time.Hour).Unix(), 10))
	start = clk.now()
	require.NoError(t, l.Wait(t.Context()))
	assert.Equal(t, 30*time.Millisecond, clk.now().Sub(start))
}

// stepClock is a clock for concurrent waiters: a sleep blocks until the test steps it, then advances
// time by the duration asked. It records how many goroutines sleep at once.
type stepClock struct {
	mu             sync.Mutex
	t              time.Time
	sleeping, peak int
	step           chan struct{}
}

func (c *stepClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *stepClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeping++
	c.peak = max(c.peak, c.sleeping)
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.sleeping--; c.mu.Unlock() }()
	select {
	case <-c.step:
		c.mu.Lock()
		c.t = c.t.Add(d)
		c.mu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestLimiterWaitersInOrder: waiting requests are let through in arrival order, only one of them
// sleeps on the clock at a time, and a waiter that gives up does not hold up the ones behind it.
func TestLimiterWaitersInOrder(t *testing.T) {
	clk := &stepClock{t: time.Unix(1_700_000_000, 0), step: make(chan struct{})}
	l := newLimiter(1, time.Hour, clk.now, clk.sleep)
	require.NoError(t, l.Wait(t.Context())) // the one token: everyone after waits
	waiting := func() (bool, int) { l.mu.Lock(); defer l.mu.Unlock(); return l.turn, len(l.queue) }

	done := make(chan int, 5)
	cancels := make([]context.CancelFunc, 5)
	for i := range 5 {
		ctx, cancel := context.WithCancel(t.Context())
		cancels[i] = cancel
		go func() {
			if l.Wait(ctx) == nil {
				done <- i
			} else {
				done <- -i
			}
		}()
		// Start the next waiter only once this one waits, so arrival order is known.
		require.Eventually(t, func() bool { turn, n := waiting(); return turn && n == i }, 10*time.Second, time.Millisecond)
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	cancels[2]()
	assert.Equal(t, -2, <-done, "the cancelled waiter returns")
	for _, want := range []int{0, 1, 3, 4} {
		clk.step <- struct{}{}
		assert.Equal(t, want, <-done)
	}
	turn, n := waiting()
	assert.False(t, turn)
	assert.Zero(t, n)
	assert.Equal(t, 1, clk.peak, "one waiter polls the pace; the others wait their turn")
}

// TestLimiterReleasesInGroups: at Braze's limit the blind pace lets requests out about ten at a time
// (10 ms of the pace, at most half the burst) instead of one per token, so a paced run wakes once per
// group; the rate over the run is the same.
func TestLimiterReleasesInGroups(t *testing.T) {
	clk := newFakeClock()
	l := newLimiter(3000, 3*time.Second, clk.now, clk.sleep)
	burst := int(l.burst)
	at := map[time.Time]int{}
	for range 3000 {
		require.NoError(t, l.Wait(t.Context()))
		at[clk.now()]++
	}
	groups := len(at) - 1 // the first instant is the initial burst
	assert.LessOrEqual(t, groups, (3000-burst)/9+1, "requests after the burst leave in groups of 9 (10 ms at 965/s)")
	for ts, n := range at {
		if !ts.Equal(time.Unix(1_700_000_000, 0)) {
			assert.LessOrEqual(t, n, burst/2, "a group is at most half the burst")
		}
	}
}

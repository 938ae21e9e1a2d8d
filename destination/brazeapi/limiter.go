package brazeapi

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"
)

// Pacing constants. Braze counts requests per key in fixed windows (docs/braze-api.md §1.6).
const (
	// blindHeadroomShare of the limit is never planned for while nothing is known of the server's
	// window: 2.5 % (75 of 3,000), so the blind pace can never tip a window over however they align.
	blindHeadroomShare = 40
	// windowHeadroomShare of a window is left unused when pacing from the headers: 1 % (30 of 3,000).
	// It absorbs the other processes' requests that are in flight and not yet visible in Remaining.
	windowHeadroomShare = 100
	// burstShare of the limit may go out at once after an idle spell: 1 % (30 of 3,000).
	burstShare = 100
	// fairness is added to every process's share of the key before pacing (see Limiter): shares move
	// towards equal by a factor (s+fairness)/(1+n·fairness) per window.
	fairness = 0.1
	// priorShare weighs the share learnt in past windows as if it were limit/priorShare requests of
	// the current one, so the first answers of a window do not swing the pace.
	priorShare = 10
	// maxRate and burstArrival bound how fast the key's requests can arrive, which dates the start of
	// a window from the count of the first answer seen in it: after a burst of 1 % of the limit (one
	// process's burst), at most twice the limit's average pace (every process pacing like this one
	// sends at most (1+0.1·n) times the budget's even spread).
	maxRate      = 2
	burstArrival = 100
	// maxResetWait caps how long one X-RateLimit-Reset can pause the client, so that a broken header
	// cannot stall a run forever.
	maxResetWait = 60 * time.Second
	// releaseTick is how much of the pace a waiting request lets build up before it goes: the
	// requests queued behind it then leave in one group (at most the burst).
	releaseTick = 10 * time.Millisecond
)

// Limiter paces requests under Braze's per-key limit (3,000 requests per 3 s for /users/track,
// docs/braze-api.md §1.6), sharing it with every other user of the key that the headers reveal: several
// brazesync processes, Cloud Data Ingestion, other tools.
//
// Blind pace. Until an answer carries X-RateLimit-Remaining, and whenever the window it described
// has ended, the limiter is a token bucket: a burst of 1 % of the limit and a steady rate such that no
// window of the configured length holds more than the limit minus 2.5 %. Between windows that rate
// is cut to the share of the key learnt so far (below).
//
// Window model. Each answer tells how much of the key's current window is used, everybody's requests
// counted: used = Limit - Remaining. The limiter numbers its own requests and hands each answer back
// with its number and send time (a ticket), and keeps a model of the server's window (keyWindow):
//   - start and end. The server opens a window with the first request after the last one ended, so
//     a window opened at the latest when the first answer seen in it arrived; the used-1 requests
//     counted before ours came after it opened, and cannot have arrived faster than a burst of 1 %
//     of the limit plus twice the limit's pace, which dates the start earlier. The end is one
//     configured window later. X-RateLimit-Reset, whole epoch seconds and rounded up, can only pull
//     the end earlier (a process that first sees a 3 s window late in it); against a 0.3 s window it
//     says nothing, so the configured length does the work.
//   - roll-over. Within a window the count only rises: an answer to a request sent after the answer
//     that showed the highest count, yet showing no more (Remaining jumped up), opens a new window.
//     So does a request sent after the end, unless its count is too high to have built up since
//     then (a 429 just after the end, say): then the end was early, and moves one round trip on.
//   - late answers of the window before (concurrent requests come back out of order) are those sent
//     before the window was seen whose count lies nearer the old window's total: they are ignored.
//   - share s: our requests counted in the window over its count (exact up to ordering, as ours
//     are numbered), blended with past windows' share while the window is young.
//
// Pace within a window. The budget left is
//
//	B = min(Limit, configured limit) - 1 % - (highest count seen + our requests sent since
//	    + the others' requests since, at their pace so far in the window)
//
// and T is the time to the window's end. B/T spends the budget evenly over what is left of the window
// for the whole key; the limiter paces at (s + 0.1)·B/T, and at B < 1 it waits for the window's end.
//   - One process: s = 1, pace 1.1·B/T. B falls like T^1.1, so the whole budget is spent exactly as
//     the window ends, slightly front-loaded: about 99 % of the limit, no 429 from its own traffic.
//   - n processes: together they pace at (1 + 0.1·n)·B/T, which again spends the budget exactly as
//     the window ends. Each adds the same 0.1 to its share, so the shares move to 1/n by a factor
//     (s+0.1)/(1+0.1·n) a window: a process that starts late is not starved, two settle within
//     about ten windows, and a process that needs little leaves the rest to the others.
//
// 429s. With headers, a 429 says the window is spent: nothing goes out until the model's end. If
// X-RateLimit-Reset says the server's window lasts longer than the configured one, the wait runs to
// Reset instead. Without headers, or when unpaced, a 429 (or Remaining 0) pauses until Reset, capped
// at one minute, or for one window when Reset is missing.
//
// Waiting. Requests that must wait are let through in arrival order, and only one of them at a time
// (the one whose turn it is) sleeps on a timer until the pace allows it; the others wait on a channel
// each and are woken one at a time as the turn passes. So each request wakes one goroutine once,
// however many workers wait, instead of every worker sleeping and polling for every token. The one
// with the turn sleeps until 10 ms of the pace (at most half the burst) has built up, not a single
// token, so the requests behind it leave in a group: at Braze's limit about ten requests per timer
// wake-up, which cut a paced run's CPU by a third to two fifths (docs/performance.md, "The sync state").
//
// Assumptions: the server counts requests as they arrive in fixed windows opened by the first
// request (as the emulator does; Braze documents only "3,000 per 3 s" and the headers), and the
// client's clock agrees with the server's to well under a second (Reset is read against it).
type Limiter struct {
	mu       sync.Mutex
	limit    int // configured requests per window; <= 0: no client-side pacing
	window   time.Duration
	interval time.Duration // time per token at the blind pace; 0: no client-side pacing
	burst    float64
	tokens   float64
	last     time.Time
	pauseTil time.Time // no request before this
	sent     uint64    // requests let through so far, which numbers the next ticket
	win      keyWindow
	share    float64            // our share of the key's requests in past windows (1: alone)
	turn     bool               // a waiting request has the turn: it alone polls the pace
	queue    []chan struct{}    // the requests waiting behind it, in arrival order
	kick     context.CancelFunc // ends the sleep of the request with the turn (nil: none sleeps)

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// NewLimiter allows n requests per window. n <= 0 disables the client's own pacing (a 429 or an
// exhausted Remaining still pauses it until Reset).
func NewLimiter(n int, window time.Duration) *Limiter {
	return newLimiter(n, window, time.Now, sleepCtx)
}

func newLimiter(n int, window time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) *Limiter {
	if window <= 0 {
		window = 3 * time.Second
	}
	l := &Limiter{window: window, share: 1, now: now, sleep: sleep}
	if n <= 0 {
		return l
	}
	l.limit = n
	headroom := max(1, n/blindHeadroomShare)
	l.burst = float64(max(1, n/burstShare))
	planned := float64(n-headroom) - l.burst // tokens earned in one window
	if planned < 1 {
		planned = 1
	}
	l.interval = time.Duration(float64(window) / planned)
	l.tokens = l.burst
	return l
}

// Rate is the blind pace in requests per second (0 when unpaced): what the limiter allows before the
// headers tell it about the key's window.
func (l *Limiter) Rate() float64 {
	if l.interval == 0 {
		return 0
	}
	return float64(time.Second) / float64(l.interval)
}

// Wait blocks until a request may be sent, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	_, err := l.acquire(ctx)
	return err
}

// Observe reads the rate-limit headers of an answer to the latest request (docs/braze-api.md §1.6).
func (l *Limiter) Observe(status int, remaining, reset string) {
	l.observe(ticket{}, status, parseRateHeaders("", remaining, reset))
}

// acquire waits for a request to be allowed and returns its ticket, to be handed back with the
// answer's headers to observe.
func (l *Limiter) acquire(ctx context.Context) (ticket, error) {
	tk, d, queued := l.enter()
	if queued == nil && d <= 0 {
		return tk, nil
	}
	if queued != nil {
		if err := l.awaitTurn(ctx, queued); err != nil {
			return ticket{}, err
		}
		tk, d = l.reserve()
	}
	// Our turn: sleep until the pace allows the request, then pass the turn on. Every answer observed
	// meanwhile cuts the sleep short, since it may change the pace (a new window, say), as a worker
	// asking with the answer in hand would see it.
	defer l.passTurn()
	for d > 0 {
		sctx, kick := context.WithCancel(ctx)
		l.mu.Lock()
		l.kick = kick
		l.mu.Unlock()
		err := l.sleep(sctx, d)
		l.mu.Lock()
		l.kick = nil
		l.mu.Unlock()
		kick()
		if ctx.Err() != nil {
			return ticket{}, ctx.Err()
		}
		if err != nil && sctx.Err() == nil {
			return ticket{}, err
		}
		tk, d = l.reserve()
	}
	return tk, nil
}

// enter lets a request through at once when nobody is waiting and the pace allows it. Otherwise the
// request waits: it takes the turn if free (d > 0: how long until it may ask again) or queues behind
// the requests already waiting (queued is closed when the turn is its).
func (l *Limiter) enter() (tk ticket, d time.Duration, queued chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.turn {
		queued = make(chan struct{})
		l.queue = append(l.queue, queued)
		return ticket{}, 0, queued
	}
	tk, d = l.reserveLocked()
	l.turn = d > 0
	return tk, d, nil
}

// awaitTurn waits until the turn passes to queued, or ctx ends.
func (l *Limiter) awaitTurn(ctx context.Context, queued chan struct{}) error {
	select {
	case <-queued:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := slices.Index(l.queue, queued); i >= 0 {
		l.queue = slices.Delete(l.queue, i, i+1)
	} else {
		l.passTurnLocked() // the turn reached us as ctx ended: hand it on
	}
	return ctx.Err()
}

// passTurn wakes the next waiting request, or frees the turn.
func (l *Limiter) passTurn() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.passTurnLocked()
}

func (l *Limiter) passTurnLocked() {
	if len(l.queue) == 0 {
		l.turn = false
		return
	}
	next := l.queue[0]
	l.queue = slices.Delete(l.queue, 0, 1)
	close(next)
}

// reserve lets a request through and returns its ticket, or returns how long to wait before asking
// again.
func (l *Limiter) reserve() (ticket, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reserveLocked()
}

func (l *Limiter) reserveLocked() (ticket, time.Duration) {
	now := l.now()
	if now.Before(l.pauseTil) {
		return ticket{}, l.pauseTil.Sub(now)
	}
	if l.interval > 0 {
		if d := l.take(now); d > 0 {
			return ticket{}, d
		}
	}
	l.sent++
	return ticket{seq: l.sent, at: now}, 0
}

// take spends a token at the current pace, or returns how long until one is due.
func (l *Limiter) take(now time.Time) time.Duration {
	rate, until := l.pace(now)
	if until > 0 {
		return until
	}
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	// Wait for a group of tokens, not one: the requests waiting behind this one then go out
	// together, and the process wakes once per group instead of once per request. At most half
	// the burst, so that a sleep's overshoot still accrues tokens instead of losing them at the cap.
	group := max(1, math.Floor(min(l.burst/2, rate*releaseTick.Seconds())))
	d := time.Duration((group - l.tokens) / rate * float64(time.Second))
	if l.win.known && now.Before(l.win.end) {
		// Ask again when the window ends at the latest: the pace changes then.
		d = min(d, l.win.end.Sub(now))
	}
	return max(d, 1)
}

// pace is the rate in requests per second the limiter allows now, or, when the window's budget is
// spent, how long until the window ends.
func (l *Limiter) pace(now time.Time) (float64, time.Duration) {
	blind := float64(time.Second) / float64(l.interval)
	w := &l.win
	if !w.known || !now.Before(w.end) {
		// Between windows: the blind pace, cut to our share so that several processes opening a
		// window together do not overrun it before its first answers arrive.
		return blind * min(1, l.share+fairness), 0
	}
	s := l.currentShare()
	left := w.end.Sub(now)
	budget := float64(w.limit-w.limit/windowHeadroomShare) - l.projectedUse(now, s)
	if budget < 1 {
		return 0, left
	}
	return (s + fairness) * budget / left.Seconds(), 0
}

// projectedUse estimates the key's count in the window now: the highest count seen, our requests
// sent since the one that saw it, and the others' at their pace so far in the window since that
// answer (early in a window, at their share of the limit's pace).
func (l *Limiter) projectedUse(now time.Time, s float64) float64 {
	w := &l.win
	ours := float64(l.sent - w.usedSeq)
	othersRate := (1 - s) * float64(w.limit) / l.window.Seconds()
	if seen := w.usedAt.Sub(w.start); seen >= l.window/20 {
		othersRate = float64(max(0, w.used-w.ours())) / seen.Seconds()
	}
	return float64(w.used) + ours + othersRate*now.Sub(w.usedAt).Seconds()
}

// currentShare is our share of the key's requests in the current window, blended with past windows'.
func (l *Limiter) currentShare() float64 {
	w := &l.win
	prior := float64(w.limit) / priorShare
	s := (float64(w.ours()) + prior*l.share) / (float64(w.used) + prior)
	return min(1, max(1/float64(w.limit), s))
}

// observe reads the rate-limit headers of the answer to the request of tk (zero: the latest one).
func (l *Limiter) observe(tk ticket, status int, h rateHeaders) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kick != nil {
		l.kick()
	}
	now := l.now()
	if tk.seq == 0 {
		tk = ticket{seq: l.sent, at: now}
	}
	if l.interval == 0 || !h.hasRemaining {
		l.pauseBlind(now, status, h)
		return
	}
	if !h.hasLimit {
		h.limit = l.limit
	}
	used := h.limit - h.remaining
	if status == 429 {
		used = max(used, h.limit)
	}
	w := &l.win
	switch w.place(tk, used, h.remaining, now, func(n int) time.Duration { return l.minSpan(n, h.limit) }) {
	case oldWindow:
		return
	case newWindow:
		l.rollOver(tk, now, used, h)
	case stillOpen:
		// It was open when the request arrived, after the end we thought latest: give it one more
		// round trip at a time rather than guess again.
		w.end = now.Add(now.Sub(tk.at))
		fallthrough
	default:
		if used > w.used {
			w.used, w.usedSeq, w.usedAt = used, tk.seq, now
		}
		w.firstSeq = min(w.firstSeq, tk.seq)
	}
	if status == 429 && h.hasReset {
		// The server's window outlasts the configured one by more than Reset's rounding: trust Reset.
		if reset := time.Unix(h.reset, 0); w.end.Before(reset.Add(-time.Second)) {
			l.pauseUntil(now, reset)
		}
	}
}

// rollOver starts the model of a new window with the answer that revealed it.
func (l *Limiter) rollOver(tk ticket, now time.Time, used int, h rateHeaders) {
	w := &l.win
	if w.known {
		l.share = l.currentShare()
	}
	// The used-1 requests counted before ours came after the window opened, so it opened at the
	// latest the least time they can take before this answer.
	start := now.Add(-l.minSpan(used-1, h.limit))
	end := start.Add(l.window)
	if h.hasReset {
		// Reset rounds the real end up to a second, so it is an upper bound too; it helps only when
		// we first see a window well after it started.
		if reset := time.Unix(h.reset, 0); reset.After(now) && reset.Before(end) {
			end = reset
		}
	}
	*w = keyWindow{
		known: true, limit: min(h.limit, l.limit), start: start, end: end,
		used: used, usedSeq: tk.seq, usedAt: now, firstSeq: tk.seq, prevUsed: w.used,
	}
}

// minSpan is the least time n requests of a key allowed limit per window can take to arrive, under
// the bounds of maxRate and burstArrival.
func (l *Limiter) minSpan(n, limit int) time.Duration {
	paced := n - limit/burstArrival
	if paced <= 0 {
		return 0
	}
	return time.Duration(float64(paced) * float64(l.window) / float64(maxRate*limit))
}

// pauseBlind handles an answer the window model cannot use (no Remaining, or no pacing): a 429 or an
// exhausted Remaining pauses until Reset, an epoch second; without a usable Reset, for one window.
func (l *Limiter) pauseBlind(now time.Time, status int, h rateHeaders) {
	if status != 429 && (!h.hasRemaining || h.remaining > 0) {
		return
	}
	until := now.Add(l.window)
	if h.hasReset {
		until = time.Unix(h.reset, 0)
		if !until.After(now) {
			// Reset already passed on our clock (skew, or the header rounds down): a short pause
			// keeps the retry from landing in the same window.
			until = now.Add(min(l.window/10, time.Second))
		}
	}
	// Reset is a whole second, rounded up, so it can lie up to a second past the window's real end.
	// A window that is still open started at most one window ago and so ends within one window: an
	// exhausted Remaining needs no more. A 429 waits for Reset itself, in case the configured window
	// is shorter than the server's.
	if status != 429 && until.Sub(now) > l.window {
		until = now.Add(l.window)
	}
	l.pauseUntil(now, until)
}

// pauseUntil holds every request until t, capped at maxResetWait from now.
func (l *Limiter) pauseUntil(now, t time.Time) {
	if t.Sub(now) > maxResetWait {
		t = now.Add(maxResetWait)
	}
	if t.After(l.pauseTil) {
		l.pauseTil = t
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

package brazeapi

import (
	"container/heap"
	"time"
)

// This file simulates processes sharing one key against a server that counts like Braze and the
// emulator (plugin/emulator/brazeemu/ratelimit.go), on a fake clock, so pacing is checked deterministically and
// without sleeping.

// fixedWindowServer counts requests per key: a window opens with the first request after the last
// one ended and lasts its length; every request counts, accepted or not; past the limit it is a 429.
// Reset is the window's end rounded up to a second.
type fixedWindowServer struct {
	limit  int
	length time.Duration
	start  time.Time
	used   int
	opened bool
}

func (s *fixedWindowServer) take(at time.Time) (int, rateHeaders) {
	if !s.opened || !at.Before(s.start.Add(s.length)) {
		s.start, s.used, s.opened = at, 0, true
	}
	s.used++
	end := s.start.Add(s.length)
	reset := end.Unix()
	if end.Nanosecond() > 0 {
		reset++
	}
	h := rateHeaders{limit: s.limit, remaining: max(0, s.limit-s.used), reset: reset, hasLimit: true, hasRemaining: true, hasReset: true}
	if s.used > s.limit {
		return 429, h
	}
	return 201, h
}

// simProc is one process: a limiter and workers that each send one request at a time.
type simProc struct {
	l        *Limiter
	workers  int
	from     time.Time // starts sending then
	accepted []time.Time
	limited  int
	noHeader bool // the server's answers reach this process without rate-limit headers
}

type simEvent struct {
	at    time.Time
	order int
	run   func()
}

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].order < q[j].order
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// keySim runs processes against one server until until, with one-way latencies between min and
// 2×min that vary per request so answers come back out of order.
type keySim struct {
	clk     *fakeClock
	server  *fixedWindowServer
	latency time.Duration
	queue   simQueue
	order   int
	until   time.Time
}

func newKeySim(limit int, window, latency time.Duration) *keySim {
	clk := newFakeClock()
	// Start off a whole second, so that Reset's rounding matters.
	clk.t = clk.t.Add(123 * time.Millisecond)
	return &keySim{clk: clk, server: &fixedWindowServer{limit: limit, length: window}, latency: latency}
}

func (s *keySim) newProc(limit int, window time.Duration, workers int, from time.Duration) *simProc {
	return &simProc{l: newLimiter(limit, window, s.clk.now, s.clk.sleep), workers: workers, from: s.clk.now().Add(from)}
}

func (s *keySim) at(t time.Time, run func()) {
	s.order++
	heap.Push(&s.queue, simEvent{at: t, order: s.order, run: run})
}

// hop is a one-way latency: between latency and twice it, varying from request to request.
func (s *keySim) hop() time.Duration {
	return s.latency + time.Duration(s.order*7919%1000)*s.latency/1000
}

func (s *keySim) run(d time.Duration, procs ...*simProc) {
	s.until = s.clk.now().Add(d)
	for _, p := range procs {
		for range p.workers {
			s.at(p.from, func() { s.try(p) })
		}
	}
	for s.queue.Len() > 0 {
		e := heap.Pop(&s.queue).(simEvent)
		if e.at.After(s.until) {
			break
		}
		s.clk.t = e.at
		e.run()
	}
}

// try asks p's limiter for a request; if allowed, sends it and handles the answer.
func (s *keySim) try(p *simProc) {
	tk, wait := p.l.reserve()
	if wait > 0 {
		s.at(s.clk.now().Add(wait), func() { s.try(p) })
		return
	}
	s.at(s.clk.now().Add(s.hop()), func() {
		status, h := s.server.take(s.clk.now())
		s.at(s.clk.now().Add(s.hop()), func() {
			if p.noHeader {
				h = rateHeaders{}
			}
			p.l.observe(tk, status, h)
			if status == 429 {
				p.limited++
			} else {
				p.accepted = append(p.accepted, s.clk.now())
			}
			s.try(p)
		})
	})
}

// acceptedIn counts p's accepted requests answered in [from, to).
func (p *simProc) acceptedIn(from, to time.Time) int {
	n := 0
	for _, t := range p.accepted {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

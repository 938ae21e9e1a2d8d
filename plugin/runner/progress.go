package runner

import (
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/report"
)

// watch kills a destination that has rows outstanding and has made no progress for StallTimeout:
// a hung plugin must not hang the pipeline.
func (r *run) watch() (stop func()) {
	type seen struct {
		mark int64
		at   time.Time
	}
	state := map[string]*seen{}
	return every(250*time.Millisecond, func(now time.Time) {
		for name, d := range r.dests {
			if d.stream == nil {
				continue
			}
			p := d.stream.Progress()
			var mark, accounted int64
			if p != nil {
				accounted = p.Accounted()
				mark = accounted + p.Requests + p.Retries + p.RowsRead
			}
			s := state[name]
			if s == nil || s.mark != mark {
				state[name] = &seen{mark: mark, at: now}
				continue
			}
			if d.sent.Load() > accounted && now.Sub(s.at) > r.opts.StallTimeout && !d.hung.Load() {
				d.hung.Store(true)
				r.log.Error().Str("destination", name).Dur("stalled_for", now.Sub(s.at)).Msg("destination plugin hung: killing it")
				d.kill()
			}
		}
	})
}

// showProgress shows the progress every interval on Options.Progress: through its Console (the
// live line on a terminal, log events with JSON logs), or as plain lines on any other writer.
func (r *run) showProgress() (stop func()) {
	if r.opts.Progress == nil {
		return func() {}
	}
	con, ok := r.opts.Progress.(*Console)
	if !ok {
		con = NewConsole(r.opts.Progress, false, r.opts.ProgressTTY)
	}
	start := time.Now()
	stopTick := every(r.opts.ProgressInterval, func(now time.Time) {
		con.progress(r.log, r.progress(now.Sub(start)))
	})
	return func() {
		stopTick()
		con.clearProgress()
	}
}

// progressSnapshot is what one progress update says, added up over the destinations.
type progressSnapshot struct {
	elapsed                                 time.Duration
	read, sent, accounted, retries, limited int64
	total                                   int64 // rows the sources announced, 0 when unknown
	rate                                    float64
	// Mirror mode's removal phase: removals answered of those queued, while a destination is in it.
	removing         bool
	removed, removal int64
}

func (r *run) progress(elapsed time.Duration) progressSnapshot {
	p := progressSnapshot{elapsed: elapsed, total: r.total.Load()}
	for _, d := range r.dests {
		p.read += d.sent.Load()
		if rep := d.stream.Progress(); rep != nil {
			p.sent += rep.UsersSent
			p.retries += rep.Retries
			p.limited += rep.RateLimited
			p.accounted += rep.Accounted()
			p.removing = p.removing || rep.Phase == report.PhaseRemoving
			p.removed += rep.UsersRemoved + rep.RemovalsRejectedTotal()
			p.removal += rep.RemovalsQueued
		}
	}
	p.rate = float64(p.accounted) / max(elapsed.Seconds(), 0.001)
	return p
}

// String is the progress line people read.
func (p progressSnapshot) String() string {
	line := fmt.Sprintf("brazesync: %s · rows read %d · users sent %d · done %d · %.0f rows/s · retries %d · 429s %d",
		p.elapsed.Truncate(time.Second), p.read, p.sent, p.accounted, p.rate, p.retries, p.limited)
	if p.removing {
		return line + fmt.Sprintf(" · removing labels %d/%d", p.removed, p.removal)
	}
	return line + eta(p.total, p.accounted, p.rate)
}

// log adds the snapshot's numbers to a log event (JSON logs).
func (p progressSnapshot) log(ev *zerolog.Event) *zerolog.Event {
	ev = ev.Int64("rows_read", p.read).Int64("users_sent", p.sent).Int64("rows_done", p.accounted).
		Float64("rows_per_second", p.rate).Int64("retries", p.retries).Int64("rate_limited", p.limited)
	if p.total > 0 {
		ev = ev.Int64("rows_total", p.total)
	}
	if p.removing {
		ev = ev.Str("phase", report.PhaseRemoving).Int64("removals_done", p.removed).Int64("removals_queued", p.removal)
	}
	return ev
}

// eta estimates the time left when the sources announced their row counts.
func eta(total, done int64, rate float64) string {
	if total <= 0 || rate <= 0 || done >= total {
		return ""
	}
	left := time.Duration(float64(total-done) / rate * float64(time.Second))
	return fmt.Sprintf(" · ETA %s (%d%% of %d)", left.Round(time.Second), done*100/total, total)
}

// every runs fn on a ticker until stop is called; stop waits for the last call to end.
func every(d time.Duration, fn func(time.Time)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				fn(now)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

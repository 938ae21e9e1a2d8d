package runner

import (
	"fmt"
	"sync"
	"time"
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

// showProgress prints the live display on a terminal, or a plain line every interval otherwise.
func (r *run) showProgress() (stop func()) {
	if r.opts.Progress == nil {
		return func() {}
	}
	start := time.Now()
	stopTick := every(r.opts.ProgressInterval, func(now time.Time) {
		line := r.progressLine(now.Sub(start))
		if r.opts.ProgressTTY {
			fmt.Fprintf(r.opts.Progress, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(r.opts.Progress, line)
		}
	})
	return func() {
		stopTick()
		if r.opts.ProgressTTY {
			fmt.Fprint(r.opts.Progress, "\r\033[K")
		}
	}
}

func (r *run) progressLine(elapsed time.Duration) string {
	var read, sent, retries, limited, accounted int64
	for _, d := range r.dests {
		read += d.sent.Load()
		if p := d.stream.Progress(); p != nil {
			sent += p.UsersSent
			retries += p.Retries
			limited += p.RateLimited
			accounted += p.Accounted()
		}
	}
	rate := float64(accounted) / max(elapsed.Seconds(), 0.001)
	line := fmt.Sprintf("brazesync: %s · rows read %d · users sent %d · done %d · %.0f rows/s · retries %d · 429s %d",
		elapsed.Truncate(time.Second), read, sent, accounted, rate, retries, limited)
	return line + eta(r.total.Load(), accounted, rate)
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

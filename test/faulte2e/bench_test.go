package faulte2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/emutest"
)

// BenchmarkPacing runs a sync against the emulator's rate limit and reports the request rate as a
// share of the limit (%limit) and the share of requests answered 429 (%429). The goal: throughput
// within 10 % of the limit, 429s under 1 % of requests.
//
// Two limits, both with the destination configured for the emulator's limit:
//   - window=0.3s: Braze's 3,000 per 3 s scaled down by ten, 300 per 0.3 s (1,000 requests/s). Each
//     iteration sends 15,000 users in requests of 10: 1,500 requests, five windows.
//   - window=3s: 300 per 3 s, Braze's own window length (100 requests/s), where X-RateLimit-Reset's
//     whole seconds are as coarse against the window as they are at Braze. 9,000 users: 900
//     requests, three windows, about 9 s per iteration.
//
// Small requests keep the in-process emulator's JSON work from becoming the bottleneck on a small
// machine, so the figure measures pacing, not CPU. processes=2 runs two independent destination
// writers (each its own brazeapi.Client and limiter, as two brazesync processes would have) in this
// one test process, sharing the emulator's key, each configured for the whole limit and given half
// the users: only the rate-limit headers tell each about the other.
//
//	go test -run '^$' -bench BenchmarkPacing -benchtime 3x ./test/faulte2e/
func BenchmarkPacing(b *testing.B) {
	for _, lim := range []struct {
		window time.Duration
		users  int
	}{{300 * time.Millisecond, 15_000}, {3 * time.Second, 9_000}} {
		for _, procs := range []int{1, 2} {
			name := fmt.Sprintf("window=%v/processes=%d", lim.window, procs)
			b.Run(name, func(b *testing.B) { benchPacing(b, procs, lim.window, lim.users) })
		}
	}
}

func benchPacing(b *testing.B, procs int, window time.Duration, users int) {
	const limit = 300
	emu := emutest.Braze(b, brazeemu.Options{APIKeys: []string{apiKey}, RateLimit: limit, RateWindow: window})
	rows := make([]row, users)
	for i := range rows {
		id, name := fmt.Sprintf("b%06d", i), "x"
		rows[i] = row{ID: &id, Name: &name}
	}
	var requests, limited int64
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		emu.Reset()
		start := time.Now()
		errs := make(chan error, procs)
		reps := make(chan [2]int64, procs)
		for p := range procs {
			go func() {
				rq, rl, err := syncOnce(b, emu.URL(), rows[p*users/procs:(p+1)*users/procs], limit, window)
				reps <- [2]int64{rq, rl}
				errs <- err
			}()
		}
		for range procs {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
			r := <-reps
			requests += r[0]
			limited += r[1]
		}
		elapsed += time.Since(start)
	}
	b.StopTimer()
	rate := float64(requests) / elapsed.Seconds()
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(100*rate/(limit/window.Seconds()), "%limit")
	b.ReportMetric(100*float64(limited)/float64(requests), "%429")
	b.ReportMetric(float64(users*b.N)/elapsed.Seconds(), "rows/s")
}

// syncOnce sends rows through one Writer (one brazesync process) and returns its requests and 429s.
func syncOnce(b *testing.B, url string, rows []row, limit int, window time.Duration) (int64, int64, error) {
	spec, err := destination.ParseSpec(mustJSON(b, map[string]any{
		"api_key": apiKey, "endpoint": url, "update_existing_only": false, "export_attribute": "",
		"dead_letter_file": filepath.Join(b.TempDir(), "dead.jsonl"), "state_dir": b.TempDir(),
		"rate_limit": limit, "rate_window": window.String(), "concurrency": 16, "batch_size": 10,
	}))
	if err != nil {
		return 0, 0, err
	}
	ctx := context.Background()
	w, err := destination.NewWriter(ctx, spec, zerolog.Nop())
	if err != nil {
		return 0, 0, err
	}
	for i := 0; i < len(rows); i += 5000 {
		rec := record(rows[i:min(i+5000, len(rows))])
		err := w.Write(ctx, rec)
		rec.Release()
		if err != nil {
			return 0, 0, err
		}
	}
	rep, err := w.Close(ctx)
	if err != nil {
		return 0, 0, err
	}
	if rep.UsersSent != int64(len(rows)) {
		return 0, 0, fmt.Errorf("sent %d of %d users:\n%s", rep.UsersSent, len(rows), rep.Summary())
	}
	return rep.Requests, rep.RateLimited, nil
}

package bench

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

const e2eRows = 1_000_000

// unlimitedRuns keeps BenchmarkEndToEnd's 1M-row runs for BenchmarkScale's baseline.
var unlimitedRuns []syncRun

func unlimited(b *testing.B, emu *emulatorProc, rows int) syncRun {
	path := benchParquet(b, rows)
	return runSync(b, emu, fileSpec(path, "rate_limit: -1"), int64(rows))
}

// BenchmarkEndToEnd: a 1,000,000-row Parquet file → bin/brazesync → file-source (CQ
// gRPC) → braze-destination (go-plugin) → the Braze emulator (its own process) with rate
// limiting off. Runs: $BENCH_RUNS (default 3); figures are medians.
func BenchmarkEndToEnd(b *testing.B) {
	emu := startEmulator(b, "--rate-limit", "-1")
	benchParquet(b, e2eRows) // generate outside the timed runs
	var runs []syncRun
	for range b.N {
		for range runsFromEnv("BENCH_RUNS", 3) {
			runs = append(runs, unlimited(b, emu, e2eRows))
		}
	}
	unlimitedRuns = runs
	rate := collect(runs, syncRun.rowsPerSec)
	cpu := collect(runs, syncRun.cpuPerMillion)
	emuCPU := collect(runs, func(r syncRun) float64 { return r.emuCPU.Seconds() / float64(r.rows) * 1e6 })
	b.ReportMetric(rate, "rows/s")
	b.ReportMetric(cpu, "cpu-s/Mrows")
	n := len(runs)
	record(figure{Bench: "e2e unlimited", Name: "rows/s (1M rows, Parquet)", Value: rate, Unit: "rows/s",
		Braze: rate / brazeRowsPerSec, Target: ">= 150,000", Runs: n})
	record(figure{Bench: "e2e unlimited", Name: "brazesync CPU per 1M rows (all procs)", Value: cpu, Unit: "core-s",
		Target: "<= 10", Runs: n})
	for _, p := range procNames {
		c := collect(runs, func(r syncRun) float64 { return r.procs[p.proc].CPU.Seconds() / float64(r.rows) * 1e6 })
		m := collect(runs, func(r syncRun) float64 { return mib(r.procs[p.proc].Peak) })
		record(figure{Bench: "e2e unlimited", Name: "  " + p.label + " CPU per 1M rows", Value: c, Unit: "core-s", Runs: n,
			Note: map[bool]string{true: "sampled every 50 ms from /proc; the total above is exact (rusage)"}[p.proc == "brazesync"]})
		record(figure{Bench: "e2e unlimited", Name: "  " + p.label + " peak RSS", Value: m, Unit: "MiB", Target: "<= 150", Runs: n})
	}
	record(figure{Bench: "e2e unlimited", Name: "emulator CPU per 1M rows (not brazesync)", Value: emuCPU, Unit: "core-s", Runs: n,
		Note: "the Braze emulator's own cost, shown so brazesync's figures can be read apart from it"})
	record(figure{Bench: "e2e unlimited", Name: "emulator peak RSS (not brazesync)", Value: mib(emu.peak()), Unit: "MiB", Runs: 1})
}

// BenchmarkAtLimit: the same pipeline with the emulator and the destination both at a
// rate limit in Braze's 3 s window ($BENCH_LIMIT_WINDOW), at each request count of
// $BENCH_LIMIT_RATES (default "3000,1000": Braze's limit, and a third of it, at which a
// shared 2-core machine has CPU to spare for the emulator, so that the pacing itself is
// what is measured). A shorter window with proportionally fewer requests is not the same
// test: the destination's burst allowance is 1% of the limit, and at 100 per 300 ms that
// is one request, which loses every timer overshoot (docs/performance.md).
func BenchmarkAtLimit(b *testing.B) {
	window := 3 * time.Second
	if d, err := time.ParseDuration(getenv("BENCH_LIMIT_WINDOW", "")); err == nil && d > 0 {
		window = d
	}
	for _, f := range strings.Split(getenv("BENCH_LIMIT_RATES", "3000,1000"), ",") {
		limit, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || limit <= 0 {
			b.Fatalf("BENCH_LIMIT_RATES: %q is not a request count", f)
		}
		b.Run(fmt.Sprint(limit), func(b *testing.B) { atLimit(b, limit, window) })
	}
}

// atLimit runs $BENCH_LIMIT_RUNS syncs at limit requests per window. Rows: enough for
// about 13 s at the limit, or $BENCH_LIMIT_ROWS.
func atLimit(b *testing.B, limit int, window time.Duration) {
	allowed := float64(limit) / window.Seconds()
	rows := runsFromEnv("BENCH_LIMIT_ROWS", min(e2eRows, int(allowed*75*13)/100_000*100_000))
	emu := startEmulator(b, "--rate-limit", fmt.Sprint(limit), "--rate-window", window.String())
	emu.poll = true
	path := benchParquet(b, rows)
	extra := []string{fmt.Sprintf("rate_limit: %d", limit), "rate_window: " + window.String()}
	var runs []syncRun
	for range b.N {
		for range runsFromEnv("BENCH_LIMIT_RUNS", 2) {
			runs = append(runs, runSync(b, emu, fileSpec(path, extra...), int64(rows)))
		}
	}
	share := collect(runs, func(r syncRun) float64 {
		return float64(r.emu.Status[201]) / r.wall.Seconds() / allowed
	})
	steady := collect(runs, func(r syncRun) float64 { return r.steadyRate / allowed })
	r429 := collect(runs, func(r syncRun) float64 { return float64(r.emu.RateLimited) })
	p429 := collect(runs, func(r syncRun) float64 { return 100 * float64(r.emu.RateLimited) / float64(r.emu.Requests) })
	rate := collect(runs, syncRun.rowsPerSec)
	cpu := collect(runs, syncRun.cpuPerMillion)
	cpuShare := collect(runs, func(r syncRun) float64 { return r.cpu.Seconds() / r.wall.Seconds() })
	emuShare := collect(runs, func(r syncRun) float64 { return r.emuCPU.Seconds() / r.wall.Seconds() })
	b.ReportMetric(100*steady, "%limit")
	b.ReportMetric(r429, "429s")
	n := len(runs)
	bench := fmt.Sprintf("limit %d/%v", limit, window)
	record(figure{Bench: bench, Name: "share of allowed request rate, steady", Value: 100 * steady, Unit: "%",
		Target: ">= 95", Runs: n, Note: fmt.Sprintf("%.0f requests/s allowed (%.2fx Braze's), %d rows; first to last accepted request",
			allowed, allowed/brazeRequestsPerSec, rows)})
	record(figure{Bench: bench, Name: "share of allowed rate, whole run", Value: 100 * share, Unit: "%", Runs: n,
		Note: "accepted requests / (wall time of brazesync sync, start-up included)"})
	record(figure{Bench: bench, Name: "429 responses", Value: r429, Unit: "count", Runs: n})
	record(figure{Bench: bench, Name: "429 share of requests", Value: p429, Unit: "%", Target: "< 1", Runs: n})
	record(figure{Bench: bench, Name: "rows/s", Value: rate, Unit: "rows/s", Braze: rate / brazeRowsPerSec, Runs: n})
	record(figure{Bench: bench, Name: "brazesync CPU per 1M rows", Value: cpu, Unit: "core-s", Runs: n})
	record(figure{Bench: bench, Name: "brazesync CPU while at the limit", Value: 100 * cpuShare, Unit: "% of a core", Runs: n})
	record(figure{Bench: bench, Name: "emulator CPU while at the limit", Value: 100 * emuShare, Unit: "% of a core", Runs: n,
		Note: "not brazesync's: when brazesync + emulator + other load exceed the 2 cores, the share above drops"})
}

// BenchmarkScale: 1,000,000 rows against $BENCH_SCALE_ROWS (default 10,000,000), rate
// limiting off. Time should grow linearly and memory stay flat. Users repeat past
// 1,000,000 distinct keys (see keySpace).
func BenchmarkScale(b *testing.B) {
	big := runsFromEnv("BENCH_SCALE_ROWS", 10_000_000)
	emu := startEmulator(b, "--rate-limit", "-1")
	base := unlimitedRuns
	if len(base) == 0 {
		base = []syncRun{unlimited(b, emu, e2eRows)}
	}
	var bigRuns []syncRun
	for range b.N {
		bigRuns = append(bigRuns, unlimited(b, emu, big))
	}
	baseWall := collect(base, func(r syncRun) float64 { return r.wall.Seconds() })
	bigWall := collect(bigRuns, func(r syncRun) float64 { return r.wall.Seconds() })
	ratio := float64(big) / e2eRows
	record(figure{Bench: "scale", Name: "time, 1M rows", Value: baseWall, Unit: "s", Runs: len(base)})
	record(figure{Bench: "scale", Name: fmt.Sprintf("time, %dM rows", big/1_000_000), Value: bigWall, Unit: "s", Runs: len(bigRuns)})
	record(figure{Bench: "scale", Name: "time per row, big / 1M", Value: bigWall / ratio / baseWall, Unit: "ratio",
		Target: "~1 (linear)", Runs: len(bigRuns)})
	record(figure{Bench: "scale", Name: fmt.Sprintf("rows/s, %dM rows", big/1_000_000), Value: float64(big) / bigWall, Unit: "rows/s",
		Braze: float64(big) / bigWall / brazeRowsPerSec, Runs: len(bigRuns)})
	for _, p := range procNames {
		m1 := collect(base, func(r syncRun) float64 { return mib(r.procs[p.proc].Peak) })
		m2 := collect(bigRuns, func(r syncRun) float64 { return mib(r.procs[p.proc].Peak) })
		record(figure{Bench: "scale", Name: fmt.Sprintf("  %s peak RSS, %dM rows", p.label, big/1_000_000), Value: m2, Unit: "MiB",
			Target: "<= 150", Runs: len(bigRuns)})
		record(figure{Bench: "scale", Name: "  " + p.label + " peak RSS big / 1M", Value: m2 / m1, Unit: "ratio",
			Target: "<= 1.20", Runs: len(bigRuns)})
	}
}

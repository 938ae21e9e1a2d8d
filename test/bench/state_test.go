package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brazesync/brazesync/test/testbin"
)

// BenchmarkState measures the sync state (docs/state.md), in one run so the figures sit side by
// side: the first sync of 1M users with state against the same sync without (diff: false),
// unpaced and at Braze's rate limit (3,000 requests per 3 s, how a real first sync runs); an
// unchanged re-sync of 1M and of $BENCH_STATE_ROWS (default 10M) distinct users; a re-sync with
// one attribute of 1% of 1M users changed; the destination's peak RSS and the state's bytes per
// user at the large size; and CPU per 1M rows paced against unpaced: without state from its own
// first syncs, with state (the default) from BenchmarkAtLimit and BenchmarkEndToEnd when they ran
// in the same `go test`.
//
// The large runs create no profile in the emulator (update_existing_only: true and an empty
// emulator: Braze skips such objects and answers success), so it is brazesync's memory that is
// measured, while every user still ends in the state.
func BenchmarkState(b *testing.B) {
	emu := startEmulator(b, "--rate-limit", "-1")
	const rows = e2eRows
	base := stateParquet(b, rows, false)
	changed := stateParquet(b, rows, true)
	big := runsFromEnv("BENCH_STATE_ROWS", 10_000_000)
	bigFile := stateParquet(b, big, false)
	n := runsFromEnv("BENCH_RUNS", 3)
	paced := startEmulator(b, "--rate-limit", "3000", "--rate-window", "3s")
	for range b.N {
		pacedCPU := recordPacedFirstSync(b, paced, base, rows, n)
		var without, with, unchanged, oneChanged []syncRun
		for range n {
			without = append(without, stateSync(b, emu, base, "", rows, true, "diff: false"))
			dir := filepath.Join(b.TempDir(), "state")
			with = append(with, stateSync(b, emu, base, dir, rows, true))
			unchanged = append(unchanged, stateSync(b, emu, base, dir, rows, false))
			oneChanged = append(oneChanged, stateSync(b, emu, changed, dir, rows, false))
		}
		recordFirstSync(without, with, pacedCPU)
		r := collect(unchanged, syncRun.rowsPerSec)
		record(figure{Bench: "state", Name: "unchanged re-sync, 1M users: rows/s", Value: r, Unit: "rows/s",
			Braze: r / brazeRowsPerSec, Target: ">= 300,000", Runs: len(unchanged)})
		record(figure{Bench: "state", Name: "unchanged re-sync, 1M users: CPU per 1M rows", Value: collect(unchanged, syncRun.cpuPerMillion),
			Unit: "core-s", Runs: len(unchanged)})
		r = collect(oneChanged, syncRun.rowsPerSec)
		record(figure{Bench: "state", Name: "1% changed, 1M users: rows/s", Value: r, Unit: "rows/s", Braze: r / brazeRowsPerSec,
			Runs: len(oneChanged)})
		record(figure{Bench: "state", Name: "1% changed, 1M users: objects sent", Value: collect(oneChanged, func(r syncRun) float64 {
			return float64(r.report.UsersSent)
		}), Unit: "objects", Target: "<= 10,500", Runs: len(oneChanged)})

		dir := filepath.Join(b.TempDir(), "state")
		first := stateSync(b, emu, bigFile, dir, int64(big), true, "update_existing_only: true")
		again := stateSync(b, emu, bigFile, dir, int64(big), false, "update_existing_only: true")
		label := fmt.Sprintf("%dM users", big/1_000_000)
		r = again.rowsPerSec()
		record(figure{Bench: "state", Name: "unchanged re-sync, " + label + ": rows/s", Value: r, Unit: "rows/s",
			Braze: r / brazeRowsPerSec, Target: ">= 300,000", Runs: 1})
		record(figure{Bench: "state", Name: "first sync, " + label + ": rows/s", Value: first.rowsPerSec(), Unit: "rows/s",
			Braze: first.rowsPerSec() / brazeRowsPerSec, Runs: 1})
		for _, run := range []struct {
			what string
			r    syncRun
		}{{"first sync", first}, {"unchanged re-sync", again}} {
			record(figure{Bench: "state", Name: "  braze-destination peak RSS, " + run.what + ", " + label,
				Value: mib(run.r.procs["braze-destinati"].Peak), Unit: "MiB", Target: "<= 150", Runs: 1})
		}
		record(figure{Bench: "state", Name: "state bytes per user on disk, " + label, Value: float64(again.report.StateBytes) / float64(big),
			Unit: "bytes", Runs: 1, Note: fmt.Sprintf("%s in %s for %d users", human(float64(again.report.StateBytes)/(1<<20))+" MiB", "state_dir", big)})
	}
	recordPacedCPU()
}

// recordFirstSync records the first sync with state against without, run by run alternately, and
// the CPU of the one without state paced (pacedCPU, core-s per 1M rows) against unpaced.
func recordFirstSync(without, with []syncRun, pacedCPU float64) {
	r0, r1 := collect(without, syncRun.rowsPerSec), collect(with, syncRun.rowsPerSec)
	c0, c1 := collect(without, syncRun.cpuPerMillion), collect(with, syncRun.cpuPerMillion)
	record(figure{Bench: "state", Name: "first sync, 1M users, no state: rows/s", Value: r0, Unit: "rows/s", Braze: r0 / brazeRowsPerSec, Runs: len(without)})
	record(figure{Bench: "state", Name: "first sync, 1M users, with state: rows/s", Value: r1, Unit: "rows/s", Braze: r1 / brazeRowsPerSec, Runs: len(with)})
	record(figure{Bench: "state", Name: "first sync, with state / without: time", Value: r0 / r1, Unit: "ratio", Target: "<= 1.15", Runs: len(with)})
	record(figure{Bench: "state", Name: "first sync, with state / without: CPU", Value: c1 / c0, Unit: "ratio", Runs: len(with),
		Note: fmt.Sprintf("%.2f vs %.2f core-s per 1M rows, all processes", c1, c0)})
	record(figure{Bench: "state", Name: "CPU per 1M rows without state, paced at 3000/3s / unpaced", Value: pacedCPU / c0, Unit: "ratio",
		Target: "<= 1.5", Runs: len(without), Note: fmt.Sprintf("%.2f vs %.2f core-s, first syncs with diff: false", pacedCPU, c0)})
}

// recordPacedFirstSync runs the first sync of file at Braze's limit with state and without, n times
// alternately, and records the ratio of their times: the state's work against the time the pacing
// leaves free. It returns the CPU per 1M rows of the runs without state.
func recordPacedFirstSync(b *testing.B, emu *emulatorProc, file string, rows int64, n int) float64 {
	limit := []string{"rate_limit: 3000", "rate_window: 3s"}
	var without, with []syncRun
	for range n {
		without = append(without, stateSync(b, emu, file, "", rows, true, append(limit, "diff: false")...))
		with = append(with, stateSync(b, emu, file, filepath.Join(b.TempDir(), "state"), rows, true, limit...))
	}
	t0 := collect(without, func(r syncRun) float64 { return r.wall.Seconds() })
	t1 := collect(with, func(r syncRun) float64 { return r.wall.Seconds() })
	record(figure{Bench: "state", Name: "first sync at Braze's limit (3000/3s), 1M users: with state / without: time", Value: t1 / t0,
		Unit: "ratio", Target: "<= 1.15", Runs: n, Note: fmt.Sprintf("%.1f vs %.1f s; CPU %.2f vs %.2f core-s per 1M rows", t1, t0,
			collect(with, syncRun.cpuPerMillion), collect(without, syncRun.cpuPerMillion))})
	return collect(without, syncRun.cpuPerMillion)
}

// recordPacedCPU records CPU per 1M rows at Braze's limit against unpaced, when both ran.
func recordPacedCPU() {
	results.Lock()
	var paced, unpaced float64
	for _, f := range results.figs {
		switch {
		case f.Bench == "limit 3000/3s" && f.Name == "brazesync CPU per 1M rows":
			paced = f.Value
		case f.Bench == "e2e unlimited" && f.Name == "brazesync CPU per 1M rows (all procs)":
			unpaced = f.Value
		}
	}
	results.Unlock()
	if paced > 0 && unpaced > 0 {
		record(figure{Bench: "state", Name: "CPU per 1M rows, paced at 3000/3s / unpaced", Value: paced / unpaced, Unit: "ratio",
			Target: "<= 1.5", Runs: 1, Note: fmt.Sprintf("%.2f vs %.2f core-s (limit 3000/3s and e2e unlimited above)", paced, unpaced)})
	}
}

// stateSync runs one sync of file into emu keeping state in stateDir ("" for the run's own
// folder) and checks the report: fresh runs deliver every row; re-syncs deliver or leave
// unchanged every row, and Braze processed exactly the objects sent.
func stateSync(b *testing.B, emu *emulatorProc, file, stateDir string, rows int64, fresh bool, extra ...string) syncRun {
	b.Helper()
	if stateDir != "" {
		extra = append(extra, "state_dir: "+stateDir)
	}
	if !slices.ContainsFunc(extra, func(l string) bool { return strings.HasPrefix(l, "rate_limit:") }) {
		extra = append(extra, "rate_limit: -1")
	}
	run := execSync(b, emu, stateSpec(file, extra...), rows)
	rep := run.report
	switch {
	case !rep.Balanced() || rep.Rejected() > 0 || rep.Skipped() > 0:
		b.Fatalf("report does not add up or rejected rows: %+v", rep.Report)
	case fresh && rep.UsersSent+rep.RowsMerged != rows:
		b.Fatalf("first sync delivered %d of %d rows", rep.UsersSent+rep.RowsMerged, rows)
	case run.emu.ObjectsReceived != rep.UsersSent:
		b.Fatalf("Braze received %d objects, brazesync reports %d sent", run.emu.ObjectsReceived, rep.UsersSent)
	}
	if d := rep.Destinations["braze"]; d != nil {
		run.report.StateBytes = d.StateBytes
	}
	b.Logf("%d rows in %v: %.0f rows/s, %d sent, %d unchanged, brazesync CPU %v, destination peak %.0f MiB, state %d bytes",
		rows, run.wall.Round(time.Millisecond), run.rowsPerSec(), rep.UsersSent, rep.RowsUnchanged, run.cpu,
		mib(run.procs["braze-destinati"].Peak), run.report.StateBytes)
	return run
}

// stateSpec is the file source into a Braze destination like testbin.BrazeDestination's, whose
// extra lines may set update_existing_only (which that one fixes to false).
func stateSpec(file string, extra ...string) string {
	lines := []string{"update_existing_only: false"}
	for _, l := range extra {
		if strings.HasPrefix(l, "update_existing_only:") {
			lines[0] = l
		} else {
			lines = append(lines, l)
		}
	}
	return testbin.Spec(testbin.FileSource(file), `kind: destination
spec:
  name: braze
  path: {{BIN}}/braze-destination
  registry: local
  write_mode: append
  spec:
    api_key: "${BRAZE_API_KEY}"
    endpoint: "${BRAZE_ENDPOINT}"
    export_value: BENCH
    dead_letter_file: dead.jsonl
    `+strings.Join(lines, "\n    ")+"\n")
}

// stateParquet returns a Parquet file of rows distinct users (the same four attributes as
// benchParquet), written once into the temp folder; changed bumps the score of every 100th user.
func stateParquet(b *testing.B, rows int, changed bool) string {
	b.Helper()
	name := fmt.Sprintf("brazesync-bench-state-v1-%d.parquet", rows)
	if changed {
		name = fmt.Sprintf("brazesync-bench-state-v1-%d-changed/brazesync-bench-state-v1-%d.parquet", rows, rows)
	}
	path := filepath.Join(os.TempDir(), name) // the same base name: the file source names the table after it
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := writeParquet(tmp, rows, rows, changed); err != nil {
		b.Fatalf("generating %d users: %v", rows, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

//go:build pacedscratch

package bench

import (
	"testing"
	"time"
)

func BenchmarkZZPacedSplit(b *testing.B) {
	rows := runsFromEnv("ZZ_ROWS", 300000)
	path := benchParquet(b, rows)
	for _, mode := range []string{"unpaced", "paced"} {
		var emu *emulatorProc
		extra := []string{"rate_limit: -1", "diff: false"}
		if mode == "paced" {
			emu = startEmulator(b, "--rate-limit", "3000", "--rate-window", "3s")
			extra = []string{"rate_limit: 3000", "rate_window: 3s", "diff: false"}
		} else {
			emu = startEmulator(b, "--rate-limit", "-1")
		}
		r := runSync(b, emu, fileSpec(path, extra...), int64(rows))
		b.Logf("%s: wall %v total cpu %v", mode, r.wall.Round(time.Millisecond), r.cpu)
		for name, p := range r.procs {
			b.Logf("   %s cpu %v (per 1M %.2f)", name, p.CPU, p.CPU.Seconds()/float64(rows)*1e6)
		}
	}
}

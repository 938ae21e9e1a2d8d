//go:build stateprof

package destination

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
)

func TestStateProf(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{RateLimit: -1})
	dir := t.TempDir()
	spec := testSpec(t, emu.URL(), map[string]any{"rate_limit": -1, "concurrency": 16, "state_dir": filepath.Join(dir, "st"),
		"diff": os.Getenv("DIFF") != "off"})
	var recs []arrow.Record
	nrec := 50
	if v := os.Getenv("NREC"); v != "" {
		fmt.Sscan(v, &nrec)
	}
	for c := 0; c < nrec; c++ {
		rows := make([]userRow, 10000)
		for i := range rows {
			k := c*10000 + i
			rows[i] = userRow{ID: str(fmt.Sprintf("u-%d", k)), Name: str(fmt.Sprintf("segment-%d", k%7)), Score: num(int64(k % 1000))}
		}
		recs = append(recs, usersRecord("users", rows))
	}
	for pass := 0; pass < passes(); pass++ {
		start := time.Now()
		c0 := cpuNow()
		w, werr, cerr := run(t, spec, zerolog.Nop(), recs)
		rep := w.Progress()
		t.Logf("pass %d: %v cpu %v, sent %d unchanged %d (%v %v)", pass, time.Since(start), cpuNow()-c0, rep.UsersSent, rep.RowsUnchanged, werr, cerr)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		st, _ := os.ReadFile("/proc/self/status")
		for _, l := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(l, "VmHWM") || strings.HasPrefix(l, "RssAnon") {
				t.Log(l)
			}
		}
		t.Logf("heap inuse %d MB, sys %d MB", ms.HeapInuse>>20, ms.Sys>>20)
	}
}

func cpuNow() time.Duration {
	var r syscall.Rusage
	syscall.Getrusage(0, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

func passes() int {
	if os.Getenv("PASSES") == "1" {
		return 1
	}
	return 2
}

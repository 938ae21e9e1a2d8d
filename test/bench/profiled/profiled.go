// Package profiled starts CPU and allocation profiling in the benchmark suite's
// profiling builds of brazesync's binaries (test/bench/profiled/cmd/*), which run the
// same code as plugin/cmd/* with a profile written to $BENCH_PROFILE_DIR.
package profiled

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// ChildEnv carries $BENCH_PROFILE_DIR to the plugin processes, whose environment the runner limits
// to what they need (the project's test variables included).
const ChildEnv = "BRAZESYNC_TEST_PROFILE_DIR"

// Start begins a CPU profile of this process when $BENCH_PROFILE_DIR is set; the
// returned function stops it and writes the allocation profile next to it
// (NAME-PID.cpu.pprof, NAME-PID.allocs.pprof).
func Start(name string) func() {
	dir := os.Getenv("BENCH_PROFILE_DIR")
	if dir == "" {
		dir = os.Getenv(ChildEnv) // a plugin: the runner passes its children only BRAZESYNC_TEST_*
	}
	if dir == "" {
		return func() {}
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%d", name, os.Getpid()))
	f, err := os.Create(base + ".cpu.pprof")
	if err != nil {
		fmt.Fprintln(os.Stderr, "profiled:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "profiled:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
		runtime.GC()
		if a, err := os.Create(base + ".allocs.pprof"); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(a, 0)
			_ = a.Close()
		}
	}
}

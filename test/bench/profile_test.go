package bench

import (
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/brazesync/brazesync/test/bench/profiled"
	"github.com/brazesync/brazesync/test/testbin"
)

var (
	profOnce sync.Once
	profDir  string
	profErr  error
)

// profiledBin builds the profiling variants of brazesync and its plugins
// (test/bench/profiled/cmd) once, for runs with $BENCH_PROFILE_DIR set:
// each process then writes NAME-PID.cpu.pprof and NAME-PID.allocs.pprof there.
func profiledBin(b *testing.B, out string) string {
	b.Helper()
	profOnce.Do(func() {
		if profErr = os.MkdirAll(out, 0o755); profErr != nil {
			return
		}
		// The runner hands its plugins only the variables they need, ours among them.
		if profErr = os.Setenv(profiled.ChildEnv, out); profErr != nil {
			return
		}
		profDir, profErr = os.MkdirTemp("", "brazesync-profiled-")
		if profErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", profDir+string(os.PathSeparator),
			"./test/bench/profiled/cmd/brazesync", "./test/bench/profiled/cmd/braze-destination", "./test/bench/profiled/cmd/file-source",
			"./test/bench/profiled/cmd/snowflake-source", "./test/bench/profiled/cmd/looker-source")
		cmd.Dir = testbin.Root()
		if o, err := cmd.CombinedOutput(); err != nil {
			profErr = err
			b.Logf("%s", o)
		}
	})
	if profErr != nil {
		b.Fatalf("building profiled binaries: %v", profErr)
	}
	b.Logf("profiling: binaries from %s, profiles into %s", profDir, out)
	return profDir
}

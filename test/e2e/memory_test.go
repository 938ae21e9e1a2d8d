package e2e

import (
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/procstat"
	"github.com/brazesync/brazesync/test/testbin"
)

const memoryRows = 2_000_000

// TestMemoryStaysFlat pushes 2,000,000 rows through the runner, the go-plugin boundary and the
// destination into the emulator, sampling both processes' resident memory. Memory must not grow
// with the rows: the peak over the second half of the run stays within 25% (+16 MiB) of the peak
// over the first half, and each process stays under 200 MiB.
func TestMemoryStaysFlat(t *testing.T) {
	const key = "e2e-memory-key-9911"
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}, RateLimit: -1})
	data := filepath.Join(t.TempDir(), "big.parquet")
	writeNarrowParquet(t, data, memoryRows)
	spec := fileToBraze(data, "rate_limit: -1", "concurrency: 8")
	sampler := newRSSSampler()
	res := testbin.Sync(t, spec, testbin.SyncOptions{
		Env:   map[string]string{"BRAZE_API_KEY": key, "BRAZE_ENDPOINT": emu.URL()},
		Watch: sampler.start,
	})
	if res.Code != 0 {
		t.Fatalf("exit %d\n%s", res.Code, testbin.Tail(res.Stderr, 3000))
	}
	if res.Report.UsersSent != memoryRows || !res.Report.Balanced() {
		t.Fatalf("report: %+v", res.Report.Report)
	}
	// /proc truncates process names to 15 characters.
	for _, name := range []string{"brazesync", "braze-destinati"} {
		first, second, peak := sampler.halves(name)
		t.Logf("%s: peak RSS %.1f MiB (first half %.1f MiB, second half %.1f MiB, %d samples)",
			name, mib(peak), mib(first), mib(second), sampler.count(name))
		if sampler.count(name) < 4 {
			t.Errorf("%s: only %d memory samples", name, sampler.count(name))
			continue
		}
		if float64(second) > float64(first)*1.25+16<<20 {
			t.Errorf("%s: memory grew: %.1f MiB in the first half, %.1f MiB in the second", name, mib(first), mib(second))
		}
		if peak > 200<<20 {
			t.Errorf("%s: peak RSS %.1f MiB over 200 MiB", name, mib(peak))
		}
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// writeNarrowParquet writes rows users with a key and two attributes, in chunks.
func writeNarrowParquet(t *testing.T, path string, rows int) {
	t.Helper()
	testbin.WriteUsers(t, path, rows, func(i int) (string, int64, string) {
		return "m-" + strconv.Itoa(i), int64(i % 1000), "segment-" + strconv.Itoa(i%7)
	})
}

// rssSampler records resident memory of processes by name, in order.
type rssSampler struct {
	mu      sync.Mutex
	samples map[string][]int64
}

func newRSSSampler() *rssSampler { return &rssSampler{samples: map[string][]int64{}} }

// sample reads the resident memory of pid and of its children.
func (s *rssSampler) sample(pid int) {
	for _, p := range append([]int{pid}, procstat.Children(pid)...) {
		st, ok := procstat.Read(p)
		if !ok {
			continue
		}
		s.mu.Lock()
		s.samples[st.Name] = append(s.samples[st.Name], st.RSS)
		s.mu.Unlock()
	}
}

func (s *rssSampler) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.samples[name])
}

// halves returns the peak of the first and second half of the samples, and the overall peak.
func (s *rssSampler) halves(name string) (first, second, peak int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	xs := s.samples[name]
	for i, v := range xs {
		if i < len(xs)/2 {
			first = max(first, v)
		} else {
			second = max(second, v)
		}
		peak = max(peak, v)
	}
	return first, second, peak
}

// start samples pid every 100 ms until the returned stop is called.
func (s *rssSampler) start(pid int) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.sample(pid)
			}
		}
	}()
	return func() { close(done); <-finished }
}

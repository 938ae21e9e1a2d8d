//go:build unix

package state

import (
	"context"
	"encoding/binary"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFirstSyncCommits is the store's own share of a first sync, apart from the pipeline: b.N
// new users with four attributes and the export flag, committed as 16 workers commit Braze's
// answers (75 users a request), then the store closed, so the log, the flushes and the compactions
// are all counted (the attribute hashes are made up: SHA-256 is the diff's cost, not the store's). It reports CPU per user (this process, every goroutine, from rusage) beside the
// wall time: the floor the embedded layout puts under an unpaced first sync with state
// (docs/performance.md, "The sync state").
//
//	go test -run '^$' -bench BenchmarkFirstSyncCommits -benchtime 1000000x ./destination/state/
func BenchmarkFirstSyncCommits(b *testing.B) {
	const workers, perRequest = 16, 75
	l, err := Open(b.TempDir(), Options{RunID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	sp, err := l.Space(context.Background(), testNS)
	if err != nil {
		b.Fatal(err)
	}
	names := []string{"score", "segment", "vip", "ltv"}
	requests := make(chan int, workers)
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ups := make([]Update, 0, perRequest)
			for first := range requests {
				ups = ups[:0]
				for i := first; i < min(first+perRequest, b.N); i++ {
					key := []byte("u-" + strconv.Itoa(i))
					attrs := make([]Attr, len(names))
					for k, n := range names {
						attrs[k] = Attr{Name: n, SentAt: 1_700_000_000} // hashes of distinct values, without SHA-256's cost
						binary.LittleEndian.PutUint64(attrs[k].Hash[:], uint64(i*len(names)+k)*0x9e3779b97f4a7c15)
					}
					ups = append(ups, Update{Key: key, Attrs: attrs, Flag: FlagSet, SentAt: 1_700_000_000, New: true})
				}
				if err := sp.Commit(context.Background(), ups); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	for first := 0; first < b.N; first += perRequest {
		requests <- first
	}
	close(requests)
	wg.Wait()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/user")
	b.ReportMetric(cpu.Seconds()*1e6/float64(b.N), "core-s/1M-users")
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

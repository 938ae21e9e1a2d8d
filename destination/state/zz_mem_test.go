//go:build stateprof

package state

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func rss(t *testing.T, what string) {
	st, _ := os.ReadFile("/proc/self/status")
	var out []string
	for _, l := range strings.Split(string(st), "\n") {
		if strings.HasPrefix(l, "VmHWM") || strings.HasPrefix(l, "RssAnon") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%s: %v go heap inuse %d MB sys %d MB stack %d MB", what, out, ms.HeapInuse>>20, ms.Sys>>20, ms.StackSys>>20)
}

func TestMemLookups(t *testing.T) {
	dir := "/tmp/state/memtest"
	n := 3_000_000
	ctx := context.Background()
	if _, err := os.Stat(dir); err != nil {
		l, _ := Open(dir, Options{RunID: "a"})
		sp, _ := l.Space(ctx, testNS)
		var ups []Update
		for i := 0; i < n; i++ {
			ups = append(ups, Update{Key: []byte(fmt.Sprintf("u-%d", i)), Attrs: []Attr{{Name: "a", Hash: HashValue([]byte("1"))}, {Name: "b"}, {Name: "c"}, {Name: "d"}}, Flag: FlagSet})
			if len(ups) == 1000 {
				sp.Commit(ctx, ups)
				ups = ups[:0]
			}
		}
		l.Close()
	}
	rss(t, "before open")
	var cb int64
	fmt.Sscan(os.Getenv("CACHEMB"), &cb)
	l, err := Open(dir, Options{RunID: "b", CacheBytes: cb << 20})
	if err != nil {
		t.Fatal(err)
	}
	rss(t, "after open")
	sp, _ := l.Space(ctx, testNS)
	var rec Record
	var v View
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if i%8192 == 0 {
			if v != nil {
				v.Close()
			}
			v, _ = sp.View()
			if os.Getenv("TRIM") != "" {
				releaseFreed()
			}
		}
		v.Lookup([]byte(fmt.Sprintf("u-%d", i)), &rec)
		if i%1000000 == 0 {
			rss(t, fmt.Sprint("lookups ", i))
		}
	}
	v.Close()
	t.Logf("lookups: %v per row", time.Since(t0)/time.Duration(n))
	rss(t, "after lookups")
	m := l.db.Metrics()

	t.Logf("cache size %d MB, count %d; memtable %d MB; tables %d; table cache %+v", m.BlockCache.Size>>20, m.BlockCache.Count, m.MemTable.Size>>20, m.Total().TablesCount, m.FileCache)
	l.Close()
}

func TestTrimCost(t *testing.T) {
	bufs := make([][]byte, 0)
	_ = bufs
	t0 := time.Now()
	for i := 0; i < 100; i++ {
		releaseFreed()
	}
	t.Logf("trim: %v each", time.Since(t0)/100)
}

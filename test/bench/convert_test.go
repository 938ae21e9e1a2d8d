package bench

import (
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/brazesync/brazesync/schema"
	"github.com/brazesync/brazesync/test/sampledata"
)

// convertRun encodes rows rows (cycling over rec) on the calling goroutine and
// returns rows/s and heap allocations per row.
func convertRun(b *testing.B, enc *schema.Encoder, rec arrow.Record, rows int) (rowsPerSec, allocsPerRow float64) {
	buf := make([]byte, 0, 4096)
	n := int(rec.NumRows())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	for i := 0; i < rows; i++ {
		row := i % n
		if row == 0 {
			if err := enc.Reset(rec); err != nil {
				b.Fatal(err)
			}
		}
		out, res := enc.AppendRow(buf[:0], row)
		if res.Skip != schema.SkipNone || res.Reject != nil || len(out) == 0 {
			b.Fatalf("row %d not encoded: %+v", row, res)
		}
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return float64(rows) / elapsed.Seconds(), float64(after.Mallocs-before.Mallocs) / float64(rows)
}

// BenchmarkConvert measures schema conversion of the 10-column record: rows/s on one
// core (the encoder runs on one goroutine; GOMAXPROCS is 1 for the timed loop) and heap
// allocations per row (including Reset once per 8,192-row record).
func BenchmarkConvert(b *testing.B) {
	const recRows, rows, runs = 8192, 2_000_000, 5
	rec := sampledata.MixedRecord(recRows)
	defer rec.Release()
	m, err := schema.NewMapping(rec.Schema(), schema.Config{})
	if err != nil {
		b.Fatal(err)
	}
	enc := m.NewEncoder()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var rates, allocs []float64
	for range b.N {
		for range runs {
			r, a := convertRun(b, enc, rec, rows)
			rates, allocs = append(rates, r), append(allocs, a)
		}
	}
	rate, alloc := median(rates), median(allocs)
	b.ReportMetric(rate, "rows/s")
	b.ReportMetric(alloc, "allocs/row")
	record(figure{Bench: "convert", Name: "10-column rows/s, one core", Value: rate, Unit: "rows/s",
		Braze: rate / brazeRowsPerSec, Target: ">= 1,000,000", Runs: len(rates)})
	record(figure{Bench: "convert", Name: "allocations per row", Value: alloc, Unit: "allocs/row",
		Target: "0", Runs: len(allocs)})
}

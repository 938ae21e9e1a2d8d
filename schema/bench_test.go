package schema_test

import (
	"testing"
	"time"

	"github.com/brazesync/brazesync/schema"
	"github.com/brazesync/brazesync/test/sampledata"
)

// BenchmarkEncode encodes one row per op over an 8,192-row record, so
// ns/op and allocs/op are per row; rows/s is reported as a metric.
func BenchmarkEncode(b *testing.B) {
	const rows = 8192
	rec := sampledata.MixedRecord(rows)
	defer rec.Release()
	m, err := schema.NewMapping(rec.Schema(), schema.Config{})
	if err != nil {
		b.Fatal(err)
	}
	enc := m.NewEncoder()
	if err := enc.Reset(rec); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 4096)
	var bytesOut int
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		row := i % rows
		if row == 0 {
			if err := enc.Reset(rec); err != nil {
				b.Fatal(err)
			}
		}
		out, res := enc.AppendRow(buf[:0], row)
		if res.Skip != schema.SkipNone || res.Reject != nil {
			b.Fatalf("row %d not encoded: %+v", row, res)
		}
		bytesOut += len(out)
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(bytesOut)/float64(b.N), "bytes/row")
}

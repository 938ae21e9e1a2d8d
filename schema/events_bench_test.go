package schema

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// BenchmarkEventEncode encodes one event row per op (key, name, time, four properties, content
// identity) over an 8,192-row record, so ns/op and allocs/op are per row.
func BenchmarkEventEncode(b *testing.B) {
	const rows = 8192
	sc := arrow.NewSchema([]arrow.Field{field("external_id", str), field("EVENT", str, TagEventName), field("AT", tsUTC, TagTime),
		field("PLAN", str, "braze[plan]"), field("SEATS", int64T, "braze[seats]"), field("SCORE", arrow.PrimitiveTypes.Float64, "braze[score]"),
		field("TAGS", arrow.ListOf(str), "braze[tags]")}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	for i := 0; i < rows; i++ {
		rb.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("user-%06d", i))
		rb.Field(1).(*array.StringBuilder).Append([]string{"completed_onboarding", "churn_risk_raised"}[i%2])
		rb.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(1_714_000_000_000 + int64(i)*1000))
		rb.Field(3).(*array.StringBuilder).Append("pro")
		rb.Field(4).(*array.Int64Builder).Append(int64(i % 50))
		rb.Field(5).(*array.Float64Builder).Append(float64(i) / 7)
		lb := rb.Field(6).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
	}
	rec := rb.NewRecord()
	rb.Release()
	defer rec.Release()
	m, err := NewEventMapping(sc, Config{}, EventConfig{})
	if err != nil {
		b.Fatal(err)
	}
	enc := m.NewEncoder(time.Unix(1_714_000_000, 0))
	if err := enc.Reset(rec); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, res := enc.AppendRow(buf[:0], i%rows); res.Reject != nil || res.Skip != SkipNone {
			b.Fatalf("row %d: %+v", i%rows, res)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}

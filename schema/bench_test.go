package schema

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// benchRecord builds the 10-column mixed record of the benchmark: string
// key, 2 strings, bool, int64, float64, decimal, date, timestamp,
// list<string>.
func benchRecord(rows int) arrow.Record {
	sc := arrow.NewSchema([]arrow.Field{
		field("id", str, "braze_id"),
		field("first_name", str, "braze[first_name]"),
		field("city", str, "braze[home_city]"),
		field("vip", arrow.FixedWidthTypes.Boolean, "braze[vip]"),
		field("orders", arrow.PrimitiveTypes.Int64, "braze[orders]"),
		field("ltv", arrow.PrimitiveTypes.Float64, "braze[ltv]"),
		field("balance", &arrow.Decimal128Type{Precision: 18, Scale: 2}, "braze[balance]"),
		field("signup", arrow.FixedWidthTypes.Date32, "braze[signup]"),
		field("seen", arrow.FixedWidthTypes.Timestamp_us, "braze[last_seen]"),
		field("tags", arrow.ListOf(str), "braze[tags]"),
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	names := []string{"Ann", "Bo", "Chloé", "Dmitri", "Eve"}
	cities := []string{"Paris", "New York", "São Paulo", "Tokyo"}
	for i := 0; i < rows; i++ {
		rb.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("user-%08d", i))
		rb.Field(1).(*array.StringBuilder).Append(names[i%len(names)])
		rb.Field(2).(*array.StringBuilder).Append(cities[i%len(cities)])
		rb.Field(3).(*array.BooleanBuilder).Append(i%3 == 0)
		rb.Field(4).(*array.Int64Builder).Append(int64(i * 7))
		rb.Field(5).(*array.Float64Builder).Append(float64(i) * 1.25)
		rb.Field(6).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i)*101 - 5000))
		rb.Field(7).(*array.Date32Builder).Append(arrow.Date32(18000 + i%2000))
		rb.Field(8).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000 + int64(i)*1_234_567))
		lb := rb.Field(9).(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder().(*array.StringBuilder)
		vb.Append("newsletter")
		vb.Append(cities[i%len(cities)])
		if i%2 == 0 {
			vb.Append("newsletter")
		}
	}
	return rb.NewRecord()
}

// BenchmarkEncode encodes one row per op over an 8,192-row record, so
// ns/op and allocs/op are per row; rows/s is reported as a metric.
func BenchmarkEncode(b *testing.B) {
	const rows = 8192
	rec := benchRecord(rows)
	defer rec.Release()
	m, err := NewMapping(rec.Schema(), Config{})
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
		if res.Skip != SkipNone || res.Reject != nil {
			b.Fatalf("row %d not encoded: %+v", row, res)
		}
		bytesOut += len(out)
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(bytesOut)/float64(b.N), "bytes/row")
}

package bench

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/brazesync/brazesync/schema"
)

// mixedRecord is the 10-column mixed-type record of schema's BenchmarkEncode: string
// key, two strings, bool, int64, float64, decimal, date, timestamp, list<string>, each
// tagged as Looker tags it.
func mixedRecord(rows int) arrow.Record {
	str := arrow.BinaryTypes.String
	f := func(name string, dt arrow.DataType, tag string) arrow.Field {
		return schema.FieldWithTags(arrow.Field{Name: name, Type: dt, Nullable: true}, tag)
	}
	sc := arrow.NewSchema([]arrow.Field{
		f("id", str, "braze_id"),
		f("first_name", str, "braze[first_name]"),
		f("city", str, "braze[home_city]"),
		f("vip", arrow.FixedWidthTypes.Boolean, "braze[vip]"),
		f("orders", arrow.PrimitiveTypes.Int64, "braze[orders]"),
		f("ltv", arrow.PrimitiveTypes.Float64, "braze[ltv]"),
		f("balance", &arrow.Decimal128Type{Precision: 18, Scale: 2}, "braze[balance]"),
		f("signup", arrow.FixedWidthTypes.Date32, "braze[signup]"),
		f("seen", arrow.FixedWidthTypes.Timestamp_us, "braze[last_seen]"),
		f("tags", arrow.ListOf(str), "braze[tags]"),
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
	}
	return rb.NewRecord()
}

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
	rec := mixedRecord(recRows)
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

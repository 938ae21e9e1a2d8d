package sampledata

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/brazesync/brazesync/schema"
)

// MixedRecord is the 10-column mixed-type record the conversion benchmarks measure (schema's
// BenchmarkEncode and test/bench's convert figure): string key, two strings, bool, int64,
// float64, decimal, date, timestamp and list<string>, each tagged as Looker tags it.
func MixedRecord(rows int) arrow.Record {
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
		if i%2 == 0 {
			vb.Append("newsletter") // a duplicate: the encoder de-duplicates arrays
		}
	}
	return rb.NewRecord()
}

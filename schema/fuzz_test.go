package schema

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cloudquery/plugin-sdk/v4/types"
)

// fuzzSource hands out values from the fuzzer's bytes.
type fuzzSource struct{ b []byte }

func (s *fuzzSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *fuzzSource) u64() uint64 {
	var buf [8]byte
	for i := range buf {
		buf[i] = s.byte()
	}
	return binary.LittleEndian.Uint64(buf[:])
}

func (s *fuzzSource) str() string {
	n := int(s.byte())
	if n > len(s.b) {
		n = len(s.b)
	}
	v := string(s.b[:n])
	s.b = s.b[n:]
	return v
}

func (s *fuzzSource) null() bool { return s.byte()%5 == 0 }

func fuzzSchema() *arrow.Schema {
	st := arrow.StructOf(arrow.Field{Name: "s", Type: str, Nullable: true}, arrow.Field{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true})
	return arrow.NewSchema([]arrow.Field{
		field("id", str, "braze_id"),
		field("s", str, "braze[s]"),
		field("i", arrow.PrimitiveTypes.Int64, "braze[i]"),
		field("f", arrow.PrimitiveTypes.Float64, "braze[f]"),
		field("b", arrow.FixedWidthTypes.Boolean, "braze[b]"),
		field("dec", &arrow.Decimal128Type{Precision: 38, Scale: 3}, "braze[dec]"),
		field("d", arrow.FixedWidthTypes.Date32, "braze[d]"),
		field("ts", arrow.FixedWidthTypes.Timestamp_ns, "braze[ts]"),
		field("t", arrow.FixedWidthTypes.Time64us, "braze[t]"),
		field("l", arrow.ListOf(str), "braze[l]"),
		field("st", st, "braze[st]"),
		field("m", arrow.MapOf(str, arrow.PrimitiveTypes.Float64), "braze[m]"),
		field("j", types.NewJSONType(), "braze[j]"),
		field("email", str, "braze[email]"),
		field("gender", str, "braze[gender]"),
		field("dob", str, "braze[dob]"),
		field("tz", str, "braze[time_zone]"),
	}, nil)
}

// fuzzRecord builds rows of fuzzSchema from arbitrary bytes.
func fuzzRecord(data []byte) arrow.Record {
	src := &fuzzSource{b: data}
	sc := fuzzSchema()
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	rows := 1 + int(src.byte()%8)
	appendStr := func(b *array.StringBuilder) {
		if src.null() {
			b.AppendNull()
		} else {
			b.Append(src.str())
		}
	}
	for r := 0; r < rows; r++ {
		appendStr(rb.Field(0).(*array.StringBuilder))
		appendStr(rb.Field(1).(*array.StringBuilder))
		rb.Field(2).(*array.Int64Builder).Append(int64(src.u64()))
		rb.Field(3).(*array.Float64Builder).Append(math.Float64frombits(src.u64()))
		rb.Field(4).(*array.BooleanBuilder).Append(src.byte()&1 == 1)
		rb.Field(5).(*array.Decimal128Builder).Append(decimal128.New(int64(src.u64()), src.u64()))
		rb.Field(6).(*array.Date32Builder).Append(arrow.Date32(int32(src.u64())))
		rb.Field(7).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(src.u64())))
		rb.Field(8).(*array.Time64Builder).Append(arrow.Time64(int64(src.u64() % (2 * 86400e6))))
		lb := rb.Field(9).(*array.ListBuilder)
		if src.null() {
			lb.AppendNull()
		} else {
			lb.Append(true)
			for n := src.byte() % 4; n > 0; n-- {
				appendStr(lb.ValueBuilder().(*array.StringBuilder))
			}
		}
		sb := rb.Field(10).(*array.StructBuilder)
		sb.Append(!src.null())
		appendStr(sb.FieldBuilder(0).(*array.StringBuilder))
		sb.FieldBuilder(1).(*array.Date32Builder).Append(arrow.Date32(int32(src.u64())))
		mb := rb.Field(11).(*array.MapBuilder)
		mb.Append(true)
		for n := src.byte() % 3; n > 0; n-- {
			mb.KeyBuilder().(*array.StringBuilder).Append(src.str())
			mb.ItemBuilder().(*array.Float64Builder).Append(math.Float64frombits(src.u64()))
		}
		rb.Field(12).(*types.JSONBuilder).AppendBytes([]byte(src.str()))
		for c := 13; c <= 16; c++ {
			appendStr(rb.Field(c).(*array.StringBuilder))
		}
	}
	return rb.NewRecord()
}

// FuzzEncode checks that encoding arbitrary records never panics, always
// yields a valid JSON object, and leaves dst unchanged on skip or reject.
func FuzzEncode(f *testing.F) {
	f.Add([]byte("\x03\x01\x02u1\x01\x05hello"), false, false)
	f.Add(bytes.Repeat([]byte{0xff, 0x7f, 0x22, 0x5c, 0x01}, 60), true, false)
	f.Add(bytes.Repeat([]byte("\x10a.b\"\\\xc3\xa9"), 40), false, true)
	f.Fuzz(func(t *testing.T, data []byte, unset, truncate bool) {
		rec := fuzzRecord(data)
		defer rec.Release()
		cfg := Config{}
		if unset {
			cfg.Nulls = NullsUnset
		}
		if truncate {
			cfg.LongStrings = LongStringsTruncate
		}
		m, err := NewMapping(rec.Schema(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		enc := m.NewEncoder()
		if err := enc.Reset(rec); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			prefix := []byte(`"x":1,`)
			out, res := enc.AppendRow(prefix, i)
			if res.Skip != SkipNone || res.Reject != nil {
				if !bytes.Equal(out, []byte(`"x":1,`)) {
					t.Fatalf("row %d: dst changed on skip/reject: %q", i, out)
				}
				continue
			}
			obj := append(append([]byte("{"), out...), '}')
			if !json.Valid(obj) {
				t.Fatalf("row %d: invalid JSON: %s", i, obj)
			}
		}
	})
}

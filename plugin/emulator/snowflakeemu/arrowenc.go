package snowflakeemu

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// column is one result column: Snowflake's name for it and its type.
type column struct {
	Name string
	Type Type
}

// encodeChunk turns rows of canonical values into one Arrow IPC stream
// (schema, one record batch, end of stream) laid out the way Snowflake
// lays out results: see layoutFor. Integer columns get the narrowest width
// that fits this chunk, so widths differ from chunk to chunk as they do on
// the real service.
func encodeChunk(cols []column, rows [][]any) ([]byte, error) {
	mem := memory.NewGoAllocator()
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, c := range cols {
		a, err := buildColumn(mem, c.Type, rows, i)
		if err != nil {
			return nil, fmt.Errorf("encoding column %s: %w", c.Name, err)
		}
		arrs[i] = a
		fields[i] = arrow.Field{Name: c.Name, Type: a.DataType(), Nullable: true, Metadata: fieldMetadata(c.Type)}
	}
	schema := arrow.NewSchema(fields, nil)
	rec := array.NewRecord(schema, arrs, int64(len(rows)))
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err := w.Write(rec); err != nil {
		return nil, fmt.Errorf("writing arrow batch: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("closing arrow stream: %w", err)
	}
	return buf.Bytes(), nil
}

// gzipBytes compresses a chunk the way Snowflake's stage serves it.
func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fieldMetadata is the per-field metadata real Snowflake attaches; the Go
// driver ignores it but passes it through to its records.
func fieldMetadata(t Type) arrow.Metadata {
	keys := []string{"logicalType", "finalType"}
	vals := []string{strings.ToUpper(t.Kind), "T"}
	switch t.Kind {
	case "fixed":
		keys = append(keys, "precision", "scale", "physicalType")
		vals = append(vals, strconv.Itoa(t.Precision), strconv.Itoa(t.Scale), "SB16")
	case "timestamp_ntz", "timestamp_ltz", "timestamp_tz":
		keys = append(keys, "scale")
		vals = append(vals, strconv.Itoa(t.Scale))
	case "text", "variant", "array", "object":
		keys = append(keys, "charLength", "byteLength")
		vals = append(vals, strconv.Itoa(maxTextLength), strconv.Itoa(maxTextLength))
	case "binary":
		keys = append(keys, "byteLength")
		vals = append(vals, strconv.Itoa(maxBinaryLength))
	}
	return arrow.NewMetadata(keys, vals)
}

// buildColumn builds column i of rows in Snowflake's Arrow layout:
//   - NUMBER(p,0): int8/16/32/64, the narrowest that fits the chunk;
//   - NUMBER(p,s>0), p<=18: the value x 10^s in the narrowest int;
//     p>18: decimal128(p,s);
//   - FLOAT: float64; VARCHAR/VARIANT/ARRAY/OBJECT: utf8; BOOLEAN: bool;
//     DATE: date32; BINARY: binary;
//   - TIMESTAMP_NTZ/LTZ: scale<=3 int64 (epoch x 10^scale), otherwise
//     struct{epoch int64 seconds, fraction int32 nanoseconds};
//   - TIMESTAMP_TZ: scale<=3 struct{epoch int64 x 10^scale, timezone int32},
//     otherwise struct{epoch, fraction, timezone}; timezone is the UTC
//     offset in minutes plus 1440.
func buildColumn(mem memory.Allocator, t Type, rows [][]any, i int) (arrow.Array, error) {
	switch t.Kind {
	case "fixed":
		if t.Scale == 0 {
			vals, valid := intColumn(rows, i, func(v any) (int64, error) { return v.(int64), nil })
			return narrowInts(mem, vals, valid), nil
		}
		if t.Precision > 18 {
			return decimalColumn(mem, t, rows, i)
		}
		vals := make([]int64, len(rows))
		valid := make([]bool, len(rows))
		for r, row := range rows {
			if row[i] == nil {
				continue
			}
			u, err := unscaled(row[i], t.Scale)
			if err != nil {
				return nil, err
			}
			vals[r], valid[r] = u.Int64(), true
		}
		return narrowInts(mem, vals, valid), nil
	case "real":
		b := array.NewFloat64Builder(mem)
		defer b.Release()
		for _, row := range rows {
			if row[i] == nil {
				b.AppendNull()
				continue
			}
			b.Append(row[i].(float64))
		}
		return b.NewArray(), nil
	case "text", "variant", "array", "object":
		b := array.NewStringBuilder(mem)
		defer b.Release()
		for _, row := range rows {
			if row[i] == nil {
				b.AppendNull()
				continue
			}
			b.Append(row[i].(string))
		}
		return b.NewArray(), nil
	case "boolean":
		b := array.NewBooleanBuilder(mem)
		defer b.Release()
		for _, row := range rows {
			if row[i] == nil {
				b.AppendNull()
				continue
			}
			b.Append(row[i].(int64) != 0)
		}
		return b.NewArray(), nil
	case "date":
		b := array.NewDate32Builder(mem)
		defer b.Release()
		for _, row := range rows {
			if row[i] == nil {
				b.AppendNull()
				continue
			}
			d, err := time.Parse(dayLayout, row[i].(string))
			if err != nil {
				return nil, err
			}
			b.Append(arrow.Date32FromTime(d))
		}
		return b.NewArray(), nil
	case "timestamp_ntz", "timestamp_ltz", "timestamp_tz":
		return timestampColumn(mem, t, rows, i)
	case "binary":
		b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
		defer b.Release()
		for _, row := range rows {
			if row[i] == nil {
				b.AppendNull()
				continue
			}
			b.Append(row[i].([]byte))
		}
		return b.NewArray(), nil
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

func intColumn(rows [][]any, i int, get func(any) (int64, error)) ([]int64, []bool) {
	vals := make([]int64, len(rows))
	valid := make([]bool, len(rows))
	for r, row := range rows {
		if row[i] == nil {
			continue
		}
		v, _ := get(row[i])
		vals[r], valid[r] = v, true
	}
	return vals, valid
}

// narrowInts builds the narrowest signed integer array holding vals.
func narrowInts(mem memory.Allocator, vals []int64, valid []bool) arrow.Array {
	var lo, hi int64
	for r, v := range vals {
		if valid[r] {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	switch {
	case lo >= math.MinInt8 && hi <= math.MaxInt8:
		b := array.NewInt8Builder(mem)
		defer b.Release()
		for r, v := range vals {
			if valid[r] {
				b.Append(int8(v))
			} else {
				b.AppendNull()
			}
		}
		return b.NewArray()
	case lo >= math.MinInt16 && hi <= math.MaxInt16:
		b := array.NewInt16Builder(mem)
		defer b.Release()
		for r, v := range vals {
			if valid[r] {
				b.Append(int16(v))
			} else {
				b.AppendNull()
			}
		}
		return b.NewArray()
	case lo >= math.MinInt32 && hi <= math.MaxInt32:
		b := array.NewInt32Builder(mem)
		defer b.Release()
		for r, v := range vals {
			if valid[r] {
				b.Append(int32(v))
			} else {
				b.AppendNull()
			}
		}
		return b.NewArray()
	}
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func decimalColumn(mem memory.Allocator, t Type, rows [][]any, i int) (arrow.Array, error) {
	b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: int32(t.Precision), Scale: int32(t.Scale)})
	defer b.Release()
	for _, row := range rows {
		if row[i] == nil {
			b.AppendNull()
			continue
		}
		u, err := unscaled(row[i], t.Scale)
		if err != nil {
			return nil, err
		}
		b.Append(decimal128.FromBigInt(u))
	}
	return b.NewArray(), nil
}

func timestampColumn(mem memory.Allocator, t Type, rows [][]any, i int) (arrow.Array, error) {
	times := make([]time.Time, len(rows))
	valid := make([]bool, len(rows))
	for r, row := range rows {
		if row[i] == nil {
			continue
		}
		tm, _, err := toTime(row[i])
		if err != nil {
			return nil, err
		}
		times[r], valid[r] = tm, true
	}
	scaled := func(tm time.Time) int64 {
		return tm.Unix()*int64(math.Pow10(t.Scale)) + int64(tm.Nanosecond())/int64(math.Pow10(9-t.Scale))
	}
	if t.Kind != "timestamp_tz" && t.Scale <= 3 {
		vals := make([]int64, len(rows))
		for r := range rows {
			if valid[r] {
				vals[r] = scaled(times[r])
			}
		}
		b := array.NewInt64Builder(mem)
		defer b.Release()
		b.AppendValues(vals, valid)
		return b.NewArray(), nil
	}
	fields := []arrow.Field{{Name: "epoch", Type: arrow.PrimitiveTypes.Int64}}
	if t.Kind != "timestamp_tz" || t.Scale > 3 {
		fields = append(fields, arrow.Field{Name: "fraction", Type: arrow.PrimitiveTypes.Int32})
	}
	if t.Kind == "timestamp_tz" {
		fields = append(fields, arrow.Field{Name: "timezone", Type: arrow.PrimitiveTypes.Int32})
	}
	b := array.NewStructBuilder(mem, arrow.StructOf(fields...))
	defer b.Release()
	for r := range rows {
		if !valid[r] {
			b.AppendNull()
			// Children need a slot too, or the struct's lengths disagree.
			for f := range fields {
				b.FieldBuilder(f).AppendNull()
			}
			continue
		}
		b.Append(true)
		tm := times[r]
		if len(fields) == 2 && t.Kind == "timestamp_tz" {
			b.FieldBuilder(0).(*array.Int64Builder).Append(scaled(tm))
		} else {
			b.FieldBuilder(0).(*array.Int64Builder).Append(tm.Unix())
			b.FieldBuilder(1).(*array.Int32Builder).Append(int32(tm.Nanosecond()))
		}
		if t.Kind == "timestamp_tz" {
			_, off := tm.Zone()
			b.FieldBuilder(len(fields) - 1).(*array.Int32Builder).Append(int32(off/60 + 1440))
		}
	}
	return b.NewArray(), nil
}

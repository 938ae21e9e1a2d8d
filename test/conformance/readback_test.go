package conformance

import (
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/cloudquery/plugin-sdk/v4/types"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
)

// rebuild turns stored profiles back into one Arrow record of the table's schema: the key column
// from the external_id, every other column from the custom attribute of the same name (absent
// means null). It converts only what the emulator stores (brazeemu.Profile: string, int64,
// float64, bool, time.Time, []any, map[string]any) into the column's type and never invents a
// value, so anything Braze did not keep shows up in the suite's diff.
func rebuild(table *cqschema.Table, keyCol string, profiles []brazeemu.Profile) (arrow.Record, error) {
	bldr := array.NewRecordBuilder(memory.DefaultAllocator, table.ToArrowSchema())
	defer bldr.Release()
	for _, p := range profiles {
		for i, c := range table.Columns {
			var err error
			if c.Name == keyCol {
				err = bldr.Field(i).AppendValueFromString(p.ExternalID)
			} else {
				err = appendValue(bldr.Field(i), c.Type, p.Custom[c.Name])
			}
			if err != nil {
				return nil, fmt.Errorf("profile %q, column %s: %w", p.ExternalID, c.Name, err)
			}
		}
	}
	return bldr.NewRecord(), nil
}

// appendValue appends one stored value (nil for an absent attribute) to b.
func appendValue(b array.Builder, dt arrow.DataType, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *types.JSONBuilder:
		b.Append(v) // nested object or array, re-encoded
		return nil
	case *types.UUIDBuilder, *types.InetBuilder, *types.MACBuilder:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("stored %T, want string", v)
		}
		return b.AppendValueFromString(s)
	case *array.StringBuilder:
		return appendString(b.Append, v)
	case *array.LargeStringBuilder:
		return appendString(b.Append, v)
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return fmt.Errorf("stored %T, want bool", v)
		}
		b.Append(x)
		return nil
	case *array.ListBuilder:
		return appendList(b, dt.(*arrow.ListType).Elem(), v)
	case *array.StructBuilder:
		return appendStruct(b, dt.(*arrow.StructType), v)
	}
	if arrow.IsInteger(dt.ID()) || arrow.IsFloating(dt.ID()) {
		return appendNumber(b, v)
	}
	if d, ok := b.(*array.Decimal128Builder); ok {
		return appendDecimal(d, dt.(*arrow.Decimal128Type), v)
	}
	return appendTemporal(b, dt, v)
}

func appendString(app func(string), v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("stored %T, want string", v)
	}
	app(s)
	return nil
}

// appendNumber converts the emulator's int64 or float64 (Braze keeps JSON numbers as one or the
// other) to the column's width. Out-of-range values are an error, not a silent wrap.
func appendNumber(b array.Builder, v any) error {
	var i int64
	var f float64
	switch x := v.(type) {
	case int64:
		i, f = x, float64(x)
	case float64:
		i, f = int64(x), x
	default:
		return fmt.Errorf("stored %T, want a number", v)
	}
	isInt := func(lo, hi float64) error {
		if f != math.Trunc(f) || f < lo || f > hi {
			return fmt.Errorf("stored %v does not fit the column", v)
		}
		return nil
	}
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(int8(i))
		return isInt(math.MinInt8, math.MaxInt8)
	case *array.Int16Builder:
		b.Append(int16(i))
		return isInt(math.MinInt16, math.MaxInt16)
	case *array.Int32Builder:
		b.Append(int32(i))
		return isInt(math.MinInt32, math.MaxInt32)
	case *array.Int64Builder:
		b.Append(i)
		return isInt(math.MinInt64, math.MaxInt64)
	case *array.Uint8Builder:
		b.Append(uint8(i))
		return isInt(0, math.MaxUint8)
	case *array.Uint16Builder:
		b.Append(uint16(i))
		return isInt(0, math.MaxUint16)
	case *array.Uint32Builder:
		b.Append(uint32(i))
		return isInt(0, math.MaxUint32)
	case *array.Uint64Builder:
		if _, ok := v.(float64); ok {
			b.Append(uint64(f)) // above 2^63: Braze kept a float64, so precision is already gone
		} else {
			b.Append(uint64(i))
		}
		return isInt(0, math.MaxUint64)
	case *array.Float32Builder:
		b.Append(float32(f))
		return nil
	case *array.Float64Builder:
		b.Append(f)
		return nil
	}
	return fmt.Errorf("no number conversion for %T", b)
}

// appendDecimal rebuilds a decimal from the float64 (or int64) Braze stored it as.
func appendDecimal(b *array.Decimal128Builder, dt *arrow.Decimal128Type, v any) error {
	var f float64
	switch x := v.(type) {
	case int64:
		f = float64(x)
	case float64:
		f = x
	default:
		return fmt.Errorf("stored %T, want a number", v)
	}
	d, err := decimal128.FromFloat64(f, dt.Precision, dt.Scale)
	if err != nil {
		return err
	}
	b.Append(d)
	return nil
}

// appendTemporal rebuilds dates, timestamps (stored as time.Time, or as ISO strings inside
// arrays) and times of day (stored as "HH:MM:SS[.fraction]" strings).
func appendTemporal(b array.Builder, dt arrow.DataType, v any) error {
	switch b := b.(type) {
	case *array.Time32Builder:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("stored %T, want a time-of-day string", v)
		}
		t, err := arrow.Time32FromString(s, dt.(*arrow.Time32Type).Unit)
		b.Append(t)
		return err
	case *array.Time64Builder:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("stored %T, want a time-of-day string", v)
		}
		t, err := arrow.Time64FromString(s, dt.(*arrow.Time64Type).Unit)
		b.Append(t)
		return err
	}
	t, err := storedTime(v)
	if err != nil {
		return err
	}
	switch b := b.(type) {
	case *array.Date32Builder:
		b.Append(arrow.Date32FromTime(t))
	case *array.Date64Builder:
		b.Append(arrow.Date64FromTime(t))
	case *array.TimestampBuilder:
		ts, err := arrow.TimestampFromTime(t, dt.(*arrow.TimestampType).Unit)
		if err != nil {
			return err
		}
		b.Append(ts)
	default:
		return fmt.Errorf("no read-back for type %s", dt)
	}
	return nil
}

func storedTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("stored %q is not an ISO 8601 time: %w", x, err)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("stored %T, want a time", v)
}

func appendList(b *array.ListBuilder, elem arrow.DataType, v any) error {
	xs, ok := v.([]any)
	if !ok {
		return fmt.Errorf("stored %T, want an array", v)
	}
	b.Append(true)
	for _, x := range xs {
		if err := appendValue(b.ValueBuilder(), elem, x); err != nil {
			return err
		}
	}
	return nil
}

func appendStruct(b *array.StructBuilder, dt *arrow.StructType, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("stored %T, want an object", v)
	}
	b.Append(true)
	for i, f := range dt.Fields() {
		if err := appendValue(b.FieldBuilder(i), f.Type, m[f.Name]); err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
	}
	return nil
}

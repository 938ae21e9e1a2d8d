package snowflake

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/brazesync/brazesync/source/sourceerr"
)

// convertColumn turns one column of a driver record into the table's
// Arrow type. The driver's output varies per batch: integers come in the
// narrowest width that fit that batch (or as decimal128 for large values),
// scaled NUMBERs as raw unscaled integers, timestamps with or without a
// zone. Same-layout conversions share the driver's buffers.
func convertColumn(mem memory.Allocator, col arrow.Array, c colSpec) (arrow.Array, error) {
	switch want := c.arrow.(type) {
	case *arrow.Int64Type:
		return toInt64(mem, col)
	case *arrow.Decimal128Type:
		return toDecimal(mem, col, want)
	case *arrow.TimestampType:
		if _, ok := col.DataType().(*arrow.TimestampType); !ok || col.DataType().(*arrow.TimestampType).Unit != arrow.Microsecond {
			return nil, fmt.Errorf("got %s, want timestamp[us]", col.DataType())
		}
		return relabel(col, want), nil
	case arrow.ExtensionType:
		if col.DataType().ID() != arrow.STRING {
			return nil, fmt.Errorf("got %s, want JSON text", col.DataType())
		}
		storage := relabel(col, want.StorageType())
		defer storage.Release()
		return array.NewExtensionArrayWithStorage(want, storage), nil
	}
	if !arrow.TypeEqual(col.DataType(), c.arrow) {
		return nil, fmt.Errorf("got %s, want %s", col.DataType(), c.arrow)
	}
	col.Retain()
	return col, nil
}

// relabel gives the same buffers a new, layout-compatible type (utf8 →
// binary, timestamp[us] → timestamp[us, UTC]).
func relabel(col arrow.Array, dt arrow.DataType) arrow.Array {
	d := col.Data()
	nd := array.NewData(dt, d.Len(), d.Buffers(), d.Children(), d.NullN(), d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd)
}

// intValue reads row i of any signed integer column.
func intValue(col arrow.Array, i int) (int64, bool) {
	switch a := col.(type) {
	case *array.Int8:
		return int64(a.Value(i)), true
	case *array.Int16:
		return int64(a.Value(i)), true
	case *array.Int32:
		return int64(a.Value(i)), true
	case *array.Int64:
		return a.Value(i), true
	}
	return 0, false
}

func toInt64(mem memory.Allocator, col arrow.Array) (arrow.Array, error) {
	if col.DataType().ID() == arrow.INT64 {
		col.Retain()
		return col, nil
	}
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.Reserve(col.Len())
	dec, isDec := col.(*array.Decimal128)
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			b.AppendNull()
			continue
		}
		if isDec {
			v := dec.Value(i)
			if !v.FitsInPrecision(18) && (v.Greater(decimal128.FromI64(1<<63-1)) || v.Less(decimal128.FromI64(-1<<63))) {
				return nil, fmt.Errorf("row %d: the value does not fit in a 64-bit integer; cast the column to VARCHAR or NUMBER(38,1)", i)
			}
			b.Append(v.BigInt().Int64())
			continue
		}
		v, ok := intValue(col, i)
		if !ok {
			return nil, fmt.Errorf("got %s, want an integer", col.DataType())
		}
		b.Append(v)
	}
	return b.NewArray(), nil
}

// toDecimal builds decimal128(p,s) from the unscaled integers (any width)
// or decimals the driver returns under WithHigherPrecision.
func toDecimal(mem memory.Allocator, col arrow.Array, want *arrow.Decimal128Type) (arrow.Array, error) {
	if d, ok := col.DataType().(*arrow.Decimal128Type); ok {
		if d.Scale != want.Scale {
			return nil, fmt.Errorf("got %s, want scale %d", d, want.Scale)
		}
		return relabel(col, want), nil
	}
	b := array.NewDecimal128Builder(mem, want)
	defer b.Release()
	b.Reserve(col.Len())
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			b.AppendNull()
			continue
		}
		v, ok := intValue(col, i)
		if !ok {
			return nil, fmt.Errorf("got %s, want a scaled integer", col.DataType())
		}
		b.Append(decimal128.FromI64(v))
	}
	return b.NewArray(), nil
}

// convertRecord builds a record on the table's schema (which carries
// cq:table_name) from a driver record.
func convertRecord(mem memory.Allocator, qt *queryTable, driverRec arrow.Record) (arrow.Record, error) {
	rec, err := qt.pushdown.strip(mem, driverRec) // the query's own columns and rows (pushdown_result.go)
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	if int(rec.NumCols()) != len(qt.cols) {
		return nil, fmt.Errorf("result has %d columns, the describe had %d", rec.NumCols(), len(qt.cols))
	}
	cols := make([]arrow.Array, len(qt.cols))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range qt.cols {
		a, err := convertColumn(mem, rec.Column(i), c)
		if err != nil { // the query must cast the column: retrying would fail the same way
			return nil, sourceerr.Config(fmt.Errorf("column %s (%s): %w", c.name, c.sfType, err))
		}
		cols[i] = a
	}
	return array.NewRecord(qt.schema, cols, rec.NumRows()), nil
}

package schema

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/cloudquery/plugin-sdk/v4/types"
)

// valueWriter appends the JSON for one value of an Arrow array. Writers are
// built once per Encoder from the column's type (so the type switch runs
// once), bound to each record's arrays in Reset, and then called per row
// with no allocation. appendValue is only called for non-null values; it
// returns a non-empty reason when the value cannot be sent, in which case
// the caller discards what was appended.
type valueWriter interface {
	bind(a arrow.Array) error
	isNull(i int) bool
	appendValue(dst []byte, i int) ([]byte, string)
}

// place says where a value sits in the output, which decides how dates are
// written: top-level attributes take ISO 8601 strings, Braze arrays cannot
// hold dates (so they become plain strings), and nested objects need
// {"$time": ...}.
type place int

const (
	placeTop place = iota
	placeArray
	placeObject
)

// writerOpts carries the settings every writer in a tree shares.
type writerOpts struct {
	place    place
	truncate bool // LongStrings == truncate
	nulls    *int // the encoder's count of nulls left out inside values
}

// newWriter builds the writer for values of type dt, or an error naming the
// unsupported type. NewMapping calls it to check types; NewEncoder calls it
// again to get fresh per-encoder state.
func newWriter(dt arrow.DataType, o writerOpts) (valueWriter, error) {
	switch t := dt.(type) {
	case *arrow.NullType:
		return nullWriter{}, nil
	case *arrow.BooleanType:
		return &boolWriter{}, nil
	case *arrow.Int8Type:
		return &intWriter[int8]{}, nil
	case *arrow.Int16Type:
		return &intWriter[int16]{}, nil
	case *arrow.Int32Type:
		return &intWriter[int32]{}, nil
	case *arrow.Int64Type:
		return &intWriter[int64]{}, nil
	case *arrow.Uint8Type:
		return &uintWriter[uint8]{}, nil
	case *arrow.Uint16Type:
		return &uintWriter[uint16]{}, nil
	case *arrow.Uint32Type:
		return &uintWriter[uint32]{}, nil
	case *arrow.Uint64Type:
		return &uintWriter[uint64]{}, nil
	case *arrow.Float16Type:
		return &float16Writer{}, nil
	case *arrow.Float32Type:
		return &floatWriter[float32]{bits: 32}, nil
	case *arrow.Float64Type:
		return &floatWriter[float64]{bits: 64}, nil
	case *arrow.StringType:
		return &stringWriter[int32]{limit: MaxStringChars, truncate: o.truncate}, nil
	case *arrow.LargeStringType:
		return &stringWriter[int64]{limit: MaxStringChars, truncate: o.truncate}, nil
	case *arrow.Decimal128Type:
		return &decimal128Writer{scale: t.Scale}, nil
	case *arrow.Decimal256Type:
		return &decimal256Writer{scale: t.Scale}, nil
	case *arrow.Date32Type:
		return &dateWriter[int32]{perDay: 1, place: o.place}, nil
	case *arrow.Date64Type:
		return &dateWriter[int64]{perDay: msPerDay, place: o.place}, nil
	case *arrow.TimestampType:
		return &timestampWriter{unit: t.Unit, place: o.place}, nil
	case *arrow.Time32Type:
		return &timeOfDayWriter[int32]{unit: t.Unit}, nil
	case *arrow.Time64Type:
		return &timeOfDayWriter[int64]{unit: t.Unit}, nil
	case *arrow.DictionaryType:
		return newDictWriter(t, o)
	case *arrow.ListType:
		return newListWriter(t.Elem(), o)
	case *arrow.LargeListType:
		return newListWriter(t.Elem(), o)
	case *arrow.FixedSizeListType:
		return newListWriter(t.Elem(), o)
	case *arrow.MapType:
		return newMapWriter(t, o)
	case *arrow.StructType:
		return newStructWriter(t, o)
	case *types.UUIDType:
		return &uuidWriter{}, nil
	case *types.JSONType:
		return &jsonWriter{nulls: o.nulls}, nil
	case *types.InetType:
		return &extStringWriter{}, nil
	case *types.MACType:
		return &macWriter{}, nil
	}
	return nil, unsupportedType(dt)
}

func unsupportedType(dt arrow.DataType) error {
	switch dt.ID() {
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.FIXED_SIZE_BINARY:
		return fmt.Errorf("unsupported type %s: Braze has no binary type (cast to a string, e.g. base64 or hex, in the query)", dt)
	}
	return fmt.Errorf("unsupported type %s", dt)
}

// validity answers IsNull from the validity bitmap directly, avoiding an
// interface call per value.
type validity struct {
	bits []byte
	off  int
}

func (v *validity) set(a arrow.Array) {
	if a.NullN() == 0 {
		v.bits = nil
		return
	}
	v.bits = a.NullBitmapBytes()
	v.off = a.Data().Offset()
}

func (v *validity) isNull(i int) bool {
	if v.bits == nil {
		return false
	}
	j := v.off + i
	return v.bits[j>>3]&(1<<(j&7)) == 0
}

func bindErr(want string, a arrow.Array) error {
	return fmt.Errorf("array is %s, want %s", a.DataType(), want)
}

// nullWriter serves Arrow's null type: every value is null.
type nullWriter struct{}

func (nullWriter) bind(arrow.Array) error                         { return nil }
func (nullWriter) isNull(int) bool                                { return true }
func (nullWriter) appendValue(dst []byte, _ int) ([]byte, string) { return append(dst, "null"...), "" }

// dictWriter serves dictionary-encoded columns by writing the dictionary
// value the index points at.
type dictWriter struct {
	validity
	arr  *array.Dictionary
	vals valueWriter
}

func newDictWriter(t *arrow.DictionaryType, o writerOpts) (valueWriter, error) {
	vw, err := newWriter(t.ValueType, o)
	if err != nil {
		return nil, fmt.Errorf("dictionary values: %w", err)
	}
	return &dictWriter{vals: vw}, nil
}

func (w *dictWriter) bind(a arrow.Array) error {
	d, ok := a.(*array.Dictionary)
	if !ok {
		return bindErr("dictionary", a)
	}
	w.arr = d
	w.validity.set(a)
	return w.vals.bind(d.Dictionary())
}

func (w *dictWriter) isNull(i int) bool {
	return w.validity.isNull(i) || w.vals.isNull(w.arr.GetValueIndex(i))
}

func (w *dictWriter) appendValue(dst []byte, i int) ([]byte, string) {
	return w.vals.appendValue(dst, w.arr.GetValueIndex(i))
}

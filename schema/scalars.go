package schema

import (
	"math"
	"strconv"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
)

type boolWriter struct {
	validity
	bits []byte
	off  int
}

func (w *boolWriter) bind(a arrow.Array) error {
	b, ok := a.(*array.Boolean)
	if !ok {
		return bindErr("bool", a)
	}
	w.validity.set(a)
	w.bits = b.Data().Buffers()[1].Bytes()
	w.off = b.Data().Offset()
	return nil
}

func (w *boolWriter) value(i int) bool { return bitutil.BitIsSet(w.bits, w.off+i) }

func (w *boolWriter) appendValue(dst []byte, i int) ([]byte, string) {
	if w.value(i) {
		return append(dst, "true"...), ""
	}
	return append(dst, "false"...), ""
}

// fixedValues returns the values buffer of a fixed-width array as []T. T
// must have the size of the array's physical type (e.g. int32 for date32).
func fixedValues[T arrow.IntType | arrow.UintType | arrow.FloatType](a arrow.Array) []T {
	return arrow.GetValues[T](a.Data(), 1)
}

type intWriter[T int8 | int16 | int32 | int64] struct {
	validity
	vals []T
}

func (w *intWriter[T]) bind(a arrow.Array) error {
	w.validity.set(a)
	w.vals = fixedValues[T](a)
	return nil
}

func (w *intWriter[T]) appendValue(dst []byte, i int) ([]byte, string) {
	return strconv.AppendInt(dst, int64(w.vals[i]), 10), ""
}

type uintWriter[T uint8 | uint16 | uint32 | uint64] struct {
	validity
	vals []T
}

func (w *uintWriter[T]) bind(a arrow.Array) error {
	w.validity.set(a)
	w.vals = fixedValues[T](a)
	return nil
}

func (w *uintWriter[T]) appendValue(dst []byte, i int) ([]byte, string) {
	return strconv.AppendUint(dst, uint64(w.vals[i]), 10), ""
}

type floatWriter[T float32 | float64] struct {
	validity
	vals []T
	bits int
}

func (w *floatWriter[T]) bind(a arrow.Array) error {
	w.validity.set(a)
	w.vals = fixedValues[T](a)
	return nil
}

func (w *floatWriter[T]) appendValue(dst []byte, i int) ([]byte, string) {
	f := float64(w.vals[i])
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, reasonNotFinite
	}
	return appendFloat(dst, f, w.bits), ""
}

type float16Writer struct {
	validity
	arr *array.Float16
}

func (w *float16Writer) bind(a arrow.Array) error {
	f, ok := a.(*array.Float16)
	if !ok {
		return bindErr("float16", a)
	}
	w.validity.set(a)
	w.arr = f
	return nil
}

func (w *float16Writer) appendValue(dst []byte, i int) ([]byte, string) {
	f := float64(w.arr.Value(i).Float32())
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, reasonNotFinite
	}
	return appendFloat(dst, f, 32), ""
}

// stringWriter serves string and large_string columns straight from the
// offsets and data buffers.
type stringWriter[O int32 | int64] struct {
	validity
	offsets  []O
	data     []byte
	limit    int
	truncate bool
}

func (w *stringWriter[O]) bind(a arrow.Array) error {
	switch a.(type) {
	case *array.String, *array.LargeString:
	default:
		return bindErr("string", a)
	}
	w.validity.set(a)
	d := a.Data()
	if d.Len() == 0 || d.Buffers()[1] == nil {
		w.offsets, w.data = nil, nil
		return nil
	}
	w.offsets = arrow.GetOffsets[O](d, 1)
	if b := d.Buffers()[2]; b != nil {
		w.data = b.Bytes()
	} else {
		w.data = nil
	}
	return nil
}

// str returns value i without copying; it is only valid while the record is.
func (w *stringWriter[O]) str(i int) string {
	b := w.data[w.offsets[i]:w.offsets[i+1]]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (w *stringWriter[O]) appendValue(dst []byte, i int) ([]byte, string) {
	return appendString(dst, w.str(i), w.limit, w.truncate)
}

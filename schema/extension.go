package schema

import (
	"bytes"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// maxNestedBytes is Braze's limit on one nested custom attribute (100 KB).
const maxNestedBytes = 100 * 1024

// binaryStorage reads the binary storage of an extension array.
type binaryStorage struct {
	validity
	arr *array.Binary
}

func (s *binaryStorage) bindStorage(a arrow.Array) error {
	ext, ok := a.(array.ExtensionArray)
	if !ok {
		return bindErr("extension", a)
	}
	b, ok := ext.Storage().(*array.Binary)
	if !ok {
		return bindErr("binary storage", ext.Storage())
	}
	s.validity.set(a)
	s.arr = b
	return nil
}

// uuidWriter writes CloudQuery UUIDs as their canonical 36-character text.
type uuidWriter struct {
	validity
	arr *array.FixedSizeBinary
}

func (w *uuidWriter) bind(a arrow.Array) error {
	ext, ok := a.(array.ExtensionArray)
	if !ok {
		return bindErr("uuid", a)
	}
	f, ok := ext.Storage().(*array.FixedSizeBinary)
	if !ok {
		return bindErr("fixed_size_binary storage", ext.Storage())
	}
	w.validity.set(a)
	w.arr = f
	return nil
}

func appendUUIDText(dst []byte, u []byte) []byte {
	for k, c := range u {
		if k == 4 || k == 6 || k == 8 || k == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}

func (w *uuidWriter) appendValue(dst []byte, i int) ([]byte, string) {
	dst = append(dst, '"')
	dst = appendUUIDText(dst, w.arr.Value(i))
	return append(dst, '"'), ""
}

// jsonWriter writes CloudQuery JSON values as Braze stores them (see
// appendBrazeJSON): copied as written, with null members and elements left
// out and counted. A JSON null counts as a null value.
type jsonWriter struct {
	binaryStorage
	nulls *int
}

func (w *jsonWriter) bind(a arrow.Array) error { return w.bindStorage(a) }

func (w *jsonWriter) isNull(i int) bool {
	return w.validity.isNull(i) || string(bytes.TrimSpace(w.arr.Value(i))) == "null"
}

func (w *jsonWriter) appendValue(dst []byte, i int) ([]byte, string) {
	start := len(dst)
	dst, reason := appendBrazeJSON(dst, w.arr.Value(i), w.nulls)
	if reason == "" && len(dst)-start > maxNestedBytes {
		reason = reasonNestedTooBig
	}
	return dst, reason
}

// extStringWriter writes extension types stored as text (inet) as strings.
type extStringWriter struct{ binaryStorage }

func (w *extStringWriter) bind(a arrow.Array) error { return w.bindStorage(a) }

func (w *extStringWriter) appendValue(dst []byte, i int) ([]byte, string) {
	b := w.arr.Value(i)
	return appendString(dst, unsafe.String(unsafe.SliceData(b), len(b)), MaxStringChars, false)
}

// macWriter writes MAC addresses as "aa:bb:cc:dd:ee:ff".
type macWriter struct{ binaryStorage }

func (w *macWriter) bind(a arrow.Array) error { return w.bindStorage(a) }

func (w *macWriter) appendValue(dst []byte, i int) ([]byte, string) {
	dst = append(dst, '"')
	for k, c := range w.arr.Value(i) {
		if k > 0 {
			dst = append(dst, ':')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(dst, '"'), ""
}

package schema

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// validNestedKey applies Braze's rules for keys inside nested custom
// attributes: non-empty, at most 255 characters, no '.', '$' or space; and
// valid UTF-8, since a key is never altered to make it text.
func validNestedKey(k string) bool {
	return k != "" && utf8.ValidString(k) && charCount(k) <= MaxStringChars && !strings.ContainsAny(k, ". $")
}

func isListType(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW:
		return true
	}
	return false
}

// isObjectType reports types written as JSON objects (or raw JSON), which
// Braze compares by content rather than as set members.
func isObjectType(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.STRUCT, arrow.MAP, arrow.EXTENSION:
		return dt.ID() != arrow.EXTENSION || dt.(arrow.ExtensionType).ExtensionName() == "json"
	}
	return false
}

// listWriter writes lists, large lists and fixed-size lists as JSON arrays.
// Null elements are dropped (Braze arrays hold values, and a null inside a
// nested value voids the request's nested updates). Top-level arrays of
// scalars are de-duplicated, keeping the first occurrence, because Braze
// stores them as sets.
type listWriter struct {
	validity
	arr    array.ListLike
	elem   valueWriter
	dedupe bool
	marks  []int // start/end offsets in dst of the elements written so far
	nulls  *int
}

func newListWriter(elem arrow.DataType, o writerOpts) (valueWriter, error) {
	if isListType(elem) {
		return nil, fmt.Errorf("unsupported type list<%s>: Braze arrays are one-dimensional", elem)
	}
	eo := o
	if o.place == placeTop {
		eo.place = placeArray
	}
	ew, err := newWriter(elem, eo)
	if err != nil {
		return nil, fmt.Errorf("list element: %w", err)
	}
	return &listWriter{elem: ew, dedupe: o.place == placeTop && !isObjectType(elem), nulls: o.nulls}, nil
}

func (w *listWriter) bind(a arrow.Array) error {
	l, ok := a.(array.ListLike)
	if !ok {
		return bindErr("list", a)
	}
	w.validity.set(a)
	w.arr = l
	return w.elem.bind(l.ListValues())
}

func (w *listWriter) appendValue(dst []byte, i int) ([]byte, string) {
	start, end := w.arr.ValueOffsets(i)
	dst = append(dst, '[')
	w.marks = w.marks[:0]
	var reason string
	for j := int(start); j < int(end); j++ {
		if w.elem.isNull(j) {
			*w.nulls++
			continue
		}
		mark := len(dst)
		if len(w.marks) > 0 {
			dst = append(dst, ',')
		}
		vs := len(dst)
		if dst, reason = w.elem.appendValue(dst, j); reason != "" {
			return dst, reason
		}
		if w.dedupe && w.seen(dst, vs) {
			dst = dst[:mark]
			continue
		}
		w.marks = append(w.marks, vs, len(dst))
	}
	return append(dst, ']'), ""
}

// seen reports whether the element at dst[vs:] equals an earlier one. The
// scan is quadratic, which is fine for Braze-sized arrays (≤ 500 items).
func (w *listWriter) seen(dst []byte, vs int) bool {
	v := dst[vs:]
	for k := 0; k < len(w.marks); k += 2 {
		if bytes.Equal(dst[w.marks[k]:w.marks[k+1]], v) {
			return true
		}
	}
	return false
}

// structWriter writes structs as nested objects. Field names are checked
// once at mapping time; null fields are omitted (and counted): the object
// replaces the stored one, so an absent and a null member mean the same.
type structWriter struct {
	validity
	fields []structField
	nulls  *int
}

type structField struct {
	key []byte // "name":
	w   valueWriter
}

func newStructWriter(t *arrow.StructType, o writerOpts) (valueWriter, error) {
	fo := o
	fo.place = placeObject
	w := &structWriter{nulls: o.nulls}
	for _, f := range t.Fields() {
		if !validNestedKey(f.Name) {
			return nil, fmt.Errorf("struct field %q: %s", f.Name, reasonNestedKey)
		}
		fw, err := newWriter(f.Type, fo)
		if err != nil {
			return nil, fmt.Errorf("struct field %q: %w", f.Name, err)
		}
		w.fields = append(w.fields, structField{key: appendKey(nil, f.Name), w: fw})
	}
	return w, nil
}

func (w *structWriter) bind(a arrow.Array) error {
	s, ok := a.(*array.Struct)
	if !ok {
		return bindErr("struct", a)
	}
	w.validity.set(a)
	for k := range w.fields {
		if err := w.fields[k].w.bind(s.Field(k)); err != nil {
			return err
		}
	}
	return nil
}

func (w *structWriter) appendValue(dst []byte, i int) ([]byte, string) {
	dst = append(dst, '{')
	first := true
	var reason string
	for k := range w.fields {
		f := &w.fields[k]
		if f.w.isNull(i) {
			*w.nulls++
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, f.key...)
		if dst, reason = f.w.appendValue(dst, i); reason != "" {
			return dst, reason
		}
	}
	return append(dst, '}'), ""
}

// mapWriter writes maps with string keys as nested objects. Keys are
// checked per value (they are data); entries with null items are omitted.
type mapWriter struct {
	validity
	arr   *array.Map
	keys  stringSource
	items valueWriter
	nulls *int
}

func newMapWriter(t *arrow.MapType, o writerOpts) (valueWriter, error) {
	var keys stringSource
	switch t.KeyType().ID() {
	case arrow.STRING:
		keys = &stringWriter[int32]{}
	case arrow.LARGE_STRING:
		keys = &stringWriter[int64]{}
	default:
		return nil, fmt.Errorf("unsupported type %s: map keys must be strings", t)
	}
	io := o
	io.place = placeObject
	iw, err := newWriter(t.ItemType(), io)
	if err != nil {
		return nil, fmt.Errorf("map item: %w", err)
	}
	return &mapWriter{keys: keys, items: iw, nulls: o.nulls}, nil
}

func (w *mapWriter) bind(a arrow.Array) error {
	m, ok := a.(*array.Map)
	if !ok {
		return bindErr("map", a)
	}
	w.validity.set(a)
	w.arr = m
	if err := w.keys.bind(m.Keys()); err != nil {
		return err
	}
	return w.items.bind(m.Items())
}

func (w *mapWriter) appendValue(dst []byte, i int) ([]byte, string) {
	start, end := w.arr.ValueOffsets(i)
	dst = append(dst, '{')
	first := true
	var reason string
	for j := int(start); j < int(end); j++ {
		if w.items.isNull(j) {
			*w.nulls++
			continue
		}
		k := w.keys.str(j)
		if !validNestedKey(k) {
			return dst, reasonNestedKey
		}
		for p := int(start); p < j; p++ {
			if !w.items.isNull(p) && w.keys.str(p) == k {
				return dst, reasonDuplicateKey
			}
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendKey(dst, k)
		if dst, reason = w.items.appendValue(dst, j); reason != "" {
			return dst, reason
		}
	}
	return append(dst, '}'), ""
}

// sizeLimited rejects top-level nested objects over Braze's 100 KB limit.
type sizeLimited struct{ valueWriter }

func (w sizeLimited) appendValue(dst []byte, i int) ([]byte, string) {
	start := len(dst)
	dst, reason := w.valueWriter.appendValue(dst, i)
	if reason == "" && len(dst)-start > maxNestedBytes {
		reason = reasonNestedTooBig
	}
	return dst, reason
}

// stringSource is a string-typed array read without copying.
type stringSource interface {
	valueWriter
	str(i int) string
}

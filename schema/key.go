package schema

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/cloudquery/plugin-sdk/v4/types"
)

// keyReader renders a key column's value as raw text (not JSON) into a
// buffer. Keys are never altered: no trimming, no case folding.
type keyReader interface {
	bind(a arrow.Array) error
	isNull(i int) bool
	appendText(dst []byte, i int) []byte
}

// newKeyReader accepts string-like and integer key columns; integers are
// rendered as decimal text, UUIDs in canonical form.
func newKeyReader(dt arrow.DataType) (keyReader, error) {
	switch t := dt.(type) {
	case *arrow.StringType, *arrow.LargeStringType, *arrow.DictionaryType:
		src, err := newStringSource(dt)
		if err != nil {
			return nil, err
		}
		return stringKey{src}, nil
	case *arrow.Int8Type:
		return &intKey[int8]{}, nil
	case *arrow.Int16Type:
		return &intKey[int16]{}, nil
	case *arrow.Int32Type:
		return &intKey[int32]{}, nil
	case *arrow.Int64Type:
		return &intKey[int64]{}, nil
	case *arrow.Uint8Type:
		return &uintKey[uint8]{}, nil
	case *arrow.Uint16Type:
		return &uintKey[uint16]{}, nil
	case *arrow.Uint32Type:
		return &uintKey[uint32]{}, nil
	case *arrow.Uint64Type:
		return &uintKey[uint64]{}, nil
	case *types.UUIDType:
		return &uuidKey{}, nil
	default:
		return nil, fmt.Errorf("unsupported key type %s: the key must be a string, integer or uuid column", t)
	}
}

type stringKey struct{ stringSource }

func (k stringKey) appendText(dst []byte, i int) []byte { return append(dst, k.str(i)...) }

type intKey[T int8 | int16 | int32 | int64] struct{ intWriter[T] }

func (k *intKey[T]) appendText(dst []byte, i int) []byte {
	return strconv.AppendInt(dst, int64(k.vals[i]), 10)
}

type uintKey[T uint8 | uint16 | uint32 | uint64] struct{ uintWriter[T] }

func (k *uintKey[T]) appendText(dst []byte, i int) []byte {
	return strconv.AppendUint(dst, uint64(k.vals[i]), 10)
}

type uuidKey struct{ uuidWriter }

func (k *uuidKey) appendText(dst []byte, i int) []byte { return appendUUIDText(dst, k.arr.Value(i)) }

// newStringSource reads string, large_string and dictionary<string> arrays
// as Go strings without copying.
func newStringSource(dt arrow.DataType) (stringSource, error) {
	switch t := dt.(type) {
	case *arrow.StringType:
		return &stringWriter[int32]{}, nil
	case *arrow.LargeStringType:
		return &stringWriter[int64]{}, nil
	case *arrow.DictionaryType:
		inner, err := newStringSource(t.ValueType)
		if err != nil {
			return nil, err
		}
		return &dictString{vals: inner}, nil
	}
	return nil, fmt.Errorf("type %s is not a string", dt)
}

// dictString is a dictionary<string> array read as strings.
type dictString struct {
	validity
	arr  *array.Dictionary
	vals stringSource
}

func (d *dictString) bind(a arrow.Array) error {
	da, ok := a.(*array.Dictionary)
	if !ok {
		return bindErr("dictionary", a)
	}
	d.arr = da
	d.validity.set(a)
	return d.vals.bind(da.Dictionary())
}

func (d *dictString) isNull(i int) bool {
	return d.validity.isNull(i) || d.vals.isNull(d.arr.GetValueIndex(i))
}

func (d *dictString) str(i int) string { return d.vals.str(d.arr.GetValueIndex(i)) }

func (d *dictString) appendValue(dst []byte, i int) ([]byte, string) {
	return d.vals.appendValue(dst, d.arr.GetValueIndex(i))
}

// MaxKeyChars is the longest user key brazesync sends. Braze documents no
// length limit for external_id, alias_name, email or phone
// (docs/braze-api.md §1.3); 255 characters is the limit it documents for every
// other string and name, so a longer key is refused here rather than
// guessed at by Braze (docs/mapping.md).
const MaxKeyChars = MaxStringChars

// keyProblem is why a key cannot be sent as it is; keys are never altered
// to make them sendable.
type keyProblem uint8

const (
	keyOK keyProblem = iota
	keyInvalidUTF8
	keyControl
	keyTooLong
)

// Reasons for refused keys, for the dead-letter file. They never contain
// the key.
const (
	reasonKeyUTF8    = "key is not valid UTF-8"
	reasonKeyControl = "key holds a control character (U+0000-U+001F or U+007F-U+009F)"
	reasonKeyTooLong = "key longer than 255 characters"
)

var keyReasons = [...]string{keyOK: "", keyInvalidUTF8: reasonKeyUTF8, keyControl: reasonKeyControl, keyTooLong: reasonKeyTooLong}

func (p keyProblem) reason() string { return keyReasons[p] }

// checkKey finds the first problem of a key in one pass: invalid UTF-8, a
// C0 or C1 control character (NUL included), or more than MaxKeyChars
// characters.
func checkKey(k string) keyProblem {
	n := 0
	for i := 0; i < len(k); {
		c := k[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return keyControl
			}
			i++
		} else {
			r, size := utf8.DecodeRuneInString(k[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				return keyInvalidUTF8
			case r >= 0x80 && r <= 0x9f:
				return keyControl
			}
			i += size
		}
		if n++; n > MaxKeyChars {
			return keyTooLong
		}
	}
	return keyOK
}

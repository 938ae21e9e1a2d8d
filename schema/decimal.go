package schema

import (
	"math/bits"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/decimal256"
)

// appendDecimal appends the exact decimal value sign*mag*10^-scale as a JSON
// number, keeping every digit the scale implies (12.50 stays 12.50): no
// float conversion, so no rounding. mag is little-endian 64-bit words.
func appendDecimal(dst []byte, neg bool, mag [4]uint64, scale int32) []byte {
	var buf [80]byte // 2^256 has 78 digits
	i := len(buf)
	for mag != ([4]uint64{}) {
		var rem uint64
		for w := 3; w >= 0; w-- {
			mag[w], rem = bits.Div64(rem, mag[w], 1e19)
		}
		last := mag == ([4]uint64{})
		for k := 0; k < 19 && (!last || rem > 0); k++ {
			i--
			buf[i] = byte('0' + rem%10)
			rem /= 10
		}
	}
	digits := buf[i:]
	if len(digits) == 0 {
		neg = false
		digits = append(buf[:0], '0')
	}
	if neg {
		dst = append(dst, '-')
	}
	switch {
	case scale <= 0:
		dst = append(dst, digits...)
		if len(digits) > 1 || digits[0] != '0' {
			for k := int32(0); k < -scale; k++ {
				dst = append(dst, '0')
			}
		}
	case int(scale) >= len(digits):
		dst = append(dst, '0', '.')
		for k := len(digits); k < int(scale); k++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	default:
		cut := len(digits) - int(scale)
		dst = append(dst, digits[:cut]...)
		dst = append(dst, '.')
		dst = append(dst, digits[cut:]...)
	}
	return dst
}

type decimal128Writer struct {
	validity
	vals  []decimal128.Num
	scale int32
}

func (w *decimal128Writer) bind(a arrow.Array) error {
	w.validity.set(a)
	w.vals = arrow.GetValues[decimal128.Num](a.Data(), 1)
	return nil
}

func (w *decimal128Writer) appendValue(dst []byte, i int) ([]byte, string) {
	n := w.vals[i]
	neg := n.Sign() < 0
	if neg {
		n = n.Negate()
	}
	return appendDecimal(dst, neg, [4]uint64{n.LowBits(), uint64(n.HighBits())}, w.scale), ""
}

type decimal256Writer struct {
	validity
	vals  []decimal256.Num
	scale int32
}

func (w *decimal256Writer) bind(a arrow.Array) error {
	w.validity.set(a)
	w.vals = arrow.GetValues[decimal256.Num](a.Data(), 1)
	return nil
}

func (w *decimal256Writer) appendValue(dst []byte, i int) ([]byte, string) {
	n := w.vals[i]
	neg := n.Sign() < 0
	if neg {
		n = n.Negate()
	}
	return appendDecimal(dst, neg, n.Array(), w.scale), ""
}

package schema

import (
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// safeASCII marks the ASCII bytes that go into a JSON string unescaped.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 is refused with
// reasonInvalidUTF8 rather than replaced by U+FFFD: a replaced byte would
// send Braze a value the source does not hold. When s has more than limit
// characters (limit > 0) it is cut there if truncate is set, else the
// reason reasonTooLong is returned. On any reason dst must be discarded by
// the caller.
func appendString(dst []byte, s string, limit int, truncate bool) ([]byte, string) {
	dst = append(dst, '"')
	n, start := 0, 0
	for i := 0; i < len(s); {
		if limit > 0 && n == limit {
			if !truncate {
				return dst, reasonTooLong
			}
			dst = append(dst, s[start:i]...)
			return append(dst, '"'), ""
		}
		n++
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendEscaped(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return dst, reasonInvalidUTF8
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), ""
}

func appendEscaped(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// appendKey appends "name": for a member name known to be valid (checked
// at mapping time, or by validNestedKey for map keys).
func appendKey(dst []byte, name string) []byte {
	dst, _ = appendString(dst, name, 0, false)
	return append(dst, ':')
}

// charCount counts characters as Braze does: one per code point (an invalid
// byte counts as one, but such strings are refused anyway).
func charCount(s string) int { return utf8.RuneCountInString(s) }

// appendFloat appends f as a JSON number using the shortest representation
// that round-trips at the given bit size, in the style of encoding/json.
// The caller has rejected NaN and infinities.
func appendFloat(dst []byte, f float64, bitSize int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bitSize == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bitSize == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bitSize)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// Reasons a value is rejected. They are stable texts for the dead-letter
// file and never contain the value itself.
const (
	reasonTooLong       = "string longer than 255 characters"
	reasonNotFinite     = "float is NaN or infinite"
	reasonDateRange     = "date outside years 0000-3000"
	reasonTimeRange     = "time of day out of range"
	reasonNestedKey     = "nested key is empty, longer than 255 characters, or contains '.', '$' or a space"
	reasonDuplicateKey  = "duplicate map key"
	reasonNestedTooBig  = "nested object larger than 100 KB"
	reasonInvalidJSON   = "invalid JSON"
	reasonEmail         = "invalid email address"
	reasonGender        = "gender must be M, F, O, N or P"
	reasonSubscribe     = "subscription state must be opted_in, subscribed or unsubscribed"
	reasonDOB           = "dob must be a date in YYYY-MM-DD form"
	reasonTimeZone      = "time_zone is not a known IANA time zone"
	reasonInvalidString = "invalid string"
	reasonInvalidUTF8   = "string is not valid UTF-8"
	reasonNumberRange   = "number outside the range of a 64-bit float"
)

// bytesToString views b as a string without copying; b must not change
// while the string is in use.
func bytesToString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

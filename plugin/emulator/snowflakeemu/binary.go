package snowflakeemu

import (
	"crypto/sha256"
	"crypto/sha512"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"unicode/utf8"

	"modernc.org/sqlite"
)

// maxBinaryLength is Snowflake's BINARY size limit (8 MB), reported in rowtypes.
const maxBinaryLength = 8388608

// canonicalBinary is the storage form of BINARY: the bytes themselves. Text is read as hex,
// Snowflake's default BINARY_INPUT_FORMAT, which is also how the driver sends BINARY bindings.
func canonicalBinary(v any) (any, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		b, err := hex.DecodeString(strings.TrimSpace(x))
		if err != nil {
			return nil, fmt.Errorf("The following string is not a legal hex-encoded value: '%s'", x)
		}
		return b, nil
	}
	return nil, fmt.Errorf("cannot convert %T to BINARY", v)
}

// binaryFunctions are the Snowflake functions on BINARY values and digests the warehouse state
// and the diff pushdown use. Each follows the Snowflake function of the same name.
var binaryFunctions = map[string]struct {
	n  int32
	fn func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error)
}{
	"sha2_binary": {-1, fnSHA2Binary},
	"sha2":        {-1, fnSHA2Hex},
	"sha2_hex":    {-1, fnSHA2Hex},
	"hex_encode":  {-1, fnHexEncode},
	"hex_decode_binary": {1, func(_ *sqlite.FunctionContext, a []driver.Value) (driver.Value, error) {
		if a[0] == nil {
			return nil, nil
		}
		return canonicalBinary(toText(a[0]))
	}},
	"chr":       {1, fnChr},
	"left":      {2, fnLeft},
	"translate": {3, fnTranslate},
}

// digestInput is the bytes a digest function reads: a string's UTF-8 bytes; a BINARY value is
// first converted to text as Snowflake does (BINARY_OUTPUT_FORMAT HEX).
func digestInput(v driver.Value) []byte {
	if b, ok := v.([]byte); ok {
		return []byte(strings.ToUpper(hex.EncodeToString(b)))
	}
	return []byte(toText(v))
}

// digest computes SHA2_BINARY(msg [, size]); size is 224, 256 (the default), 384 or 512.
func digest(args []driver.Value) ([]byte, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("SHA2 takes 1 or 2 arguments")
	}
	size := int64(256)
	if len(args) == 2 && args[1] != nil {
		f, err := toFloat(args[1])
		if err != nil {
			return nil, err
		}
		size = int64(f)
	}
	var h hash.Hash
	switch size {
	case 224:
		h = sha256.New224()
	case 256:
		h = sha256.New()
	case 384:
		h = sha512.New384()
	case 512:
		h = sha512.New()
	default:
		return nil, fmt.Errorf("Invalid digest size %d for SHA2: must be 224, 256, 384 or 512", size)
	}
	h.Write(digestInput(args[0]))
	return h.Sum(nil), nil
}

func fnSHA2Binary(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if len(args) > 0 && args[0] == nil {
		return nil, nil
	}
	return digest(args)
}

func fnSHA2Hex(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if len(args) > 0 && args[0] == nil {
		return nil, nil
	}
	d, err := digest(args)
	if err != nil {
		return nil, err
	}
	return hex.EncodeToString(d), nil
}

// fnHexEncode is HEX_ENCODE(input [, case]): upper case unless case is 0. A BINARY input is
// encoded byte for byte, a string by its UTF-8 bytes.
func fnHexEncode(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("HEX_ENCODE takes 1 or 2 arguments")
	}
	if args[0] == nil {
		return nil, nil
	}
	var b []byte
	if x, ok := args[0].([]byte); ok {
		b = x
	} else {
		b = []byte(toText(args[0]))
	}
	s := hex.EncodeToString(b)
	if len(args) == 2 && args[1] != nil {
		if f, err := toFloat(args[1]); err == nil && f == 0 {
			return s, nil
		}
	}
	return strings.ToUpper(s), nil
}

// fnChr is CHR(n): the character with Unicode code point n.
func fnChr(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if args[0] == nil {
		return nil, nil
	}
	f, err := toFloat(args[0])
	if err != nil {
		return nil, err
	}
	r := rune(f)
	if float64(r) != f || !utf8.ValidRune(r) {
		return nil, fmt.Errorf("Invalid character code %v in the CHR input", f)
	}
	return string(r), nil
}

// fnLeft is LEFT(s, n): the first n characters.
func fnLeft(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if args[0] == nil || args[1] == nil {
		return nil, nil
	}
	f, err := toFloat(args[1])
	if err != nil {
		return nil, err
	}
	s := []rune(toText(args[0]))
	n := max(0, min(int(f), len(s)))
	return string(s[:n]), nil
}

// fnTranslate is TRANSLATE(s, from, to): each character of from is replaced by the character at
// the same position in to, or removed when to is shorter.
func fnTranslate(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if args[0] == nil || args[1] == nil || args[2] == nil {
		return nil, nil
	}
	from, to := []rune(toText(args[1])), []rune(toText(args[2]))
	var b strings.Builder
	for _, r := range toText(args[0]) {
		i := -1
		for k, f := range from {
			if f == r {
				i = k
				break
			}
		}
		switch {
		case i < 0:
			b.WriteRune(r)
		case i < len(to):
			b.WriteRune(to[i])
		}
	}
	return b.String(), nil
}

package looker

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// A hand-written JSON scanner for the hot path. encoding/json parsed every
// cell three times with reflection (~75% of the source's CPU); these
// functions validate and delimit values in one pass over the bytes, with the
// same grammar as encoding/json (RFC 8259, invalid UTF-8 allowed, nesting
// limited to 10,000), and leave anything unusual to encoding/json.

// errShort means the value continues past the end of the bytes scanned so
// far: the stream reader reads more and scans again.
var errShort = errors.New("unexpected end of JSON input")

// maxNesting is encoding/json's nesting limit for one value.
const maxNesting = 10000

// syntaxError reports malformed JSON; it never quotes the input, which may
// be personal data.
func syntaxError(what string, off int) error {
	return fmt.Errorf("invalid JSON: %s at byte %d", what, off)
}

// plainByte marks string bytes that need no attention: not '"', '\\' or a
// control character.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanString scans the string starting at b[i] == '"'. It returns the index
// after the closing quote and whether the string has escapes.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	start := i
	i++
	for {
		for i < len(b) && plainByte[b[i]] {
			i++
		}
		if i >= len(b) {
			return 0, escaped, errShort
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, escaped, errShort
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(b) {
						return 0, escaped, errShort
					}
					if !isHex(b[k]) {
						return 0, escaped, syntaxError("bad \\u escape in string", start)
					}
				}
				i += 6
			default:
				return 0, escaped, syntaxError("bad escape in string", start)
			}
		default:
			return 0, escaped, syntaxError("control character in string", start)
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber scans the number starting at b[i]. final says the input ends
// at len(b); otherwise reaching it is errShort (the number may go on).
func scanNumber(b []byte, i int, final bool) (int, error) {
	start := i
	short := func() (int, error) {
		if final {
			return 0, syntaxError("truncated number", start)
		}
		return 0, errShort
	}
	if b[i] == '-' {
		i++
		if i >= len(b) {
			return short()
		}
	}
	switch {
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, syntaxError("bad number", start)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) {
			return short()
		}
		if !isDigit(b[i]) {
			return 0, syntaxError("bad number", start)
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) {
			return short()
		}
		if !isDigit(b[i]) {
			return 0, syntaxError("bad number", start)
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i >= len(b) && !final {
		return 0, errShort
	}
	return i, nil
}

// scanLiteral scans true, false or null starting at b[i].
func scanLiteral(b []byte, i int) (int, error) {
	var lit string
	switch b[i] {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	default:
		lit = "null"
	}
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return 0, errShort
		}
		if b[i+k] != lit[k] {
			return 0, syntaxError("bad literal", i)
		}
	}
	return i + len(lit), nil
}

// scanScalar scans one string, number or literal starting at b[i].
func scanScalar(b []byte, i int, final bool) (int, error) {
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, err
	case c == '-' || isDigit(c):
		return scanNumber(b, i, final)
	case c == 't' || c == 'f' || c == 'n':
		return scanLiteral(b, i)
	}
	return 0, syntaxError("unexpected character", i)
}

// scanKey scans an object key and its colon from b[i] (after whitespace),
// returning the index after the colon.
func scanKey(b []byte, i int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, errShort
	}
	if b[i] != '"' {
		return 0, syntaxError("expected object key", i)
	}
	end, _, err := scanString(b, i)
	if err != nil {
		return 0, err
	}
	return expectColon(b, end)
}

func expectColon(b []byte, i int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, errShort
	}
	if b[i] != ':' {
		return 0, syntaxError("expected ':'", i)
	}
	return i + 1, nil
}

// scanValue scans one JSON value starting at b[i] (leading whitespace
// allowed) and returns the index just after it. final says the input ends at
// len(b); otherwise running out of bytes is errShort. depth is the nesting
// allowed (encoding/json allows maxNesting per decoded value).
func scanValue(b []byte, i int, final bool, depth int) (int, error) {
	var small [32]byte
	closers := small[:0] // the closing byte of each open container
	var err error
	for {
		// A value starts here.
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, errShort
		}
		switch b[i] {
		case '{', '[':
			if len(closers) >= depth {
				return 0, syntaxError("nesting too deep", i)
			}
			closer := byte('}')
			if b[i] == '[' {
				closer = ']'
			}
			closers = append(closers, closer)
			i = skipSpace(b, i+1)
			if i >= len(b) {
				return 0, errShort
			}
			if b[i] != closer {
				if closer == '}' {
					if i, err = scanKey(b, i); err != nil {
						return 0, err
					}
				}
				continue
			}
			// Empty container: it is a complete value, handled below.
			closers = closers[:len(closers)-1]
			i++
		default:
			if i, err = scanScalar(b, i, final && len(closers) == 0); err != nil {
				return 0, err
			}
		}
		// A value ended at i: close containers until one goes on.
		for {
			if len(closers) == 0 {
				return i, nil
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return 0, errShort
			}
			closer := closers[len(closers)-1]
			if b[i] == closer {
				closers = closers[:len(closers)-1]
				i++
				continue
			}
			if b[i] != ',' {
				return 0, syntaxError("expected ',' or end of container", i)
			}
			i++
			if closer == '}' {
				if i, err = scanKey(b, i); err != nil {
					return 0, err
				}
			}
			break
		}
	}
}

// unquote returns a scanned string's content (b includes the quotes). The
// common case, no escapes and valid UTF-8, is a plain copy; the rest goes
// through encoding/json so escapes and invalid UTF-8 read exactly as before.
func unquote(b []byte, escaped bool) string {
	s := b[1 : len(b)-1]
	if !escaped && utf8.Valid(s) {
		return string(s)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		return string(s) // unreachable: b was scanned as a valid string
	}
	return out
}

package schema

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Reasons a CloudQuery JSON value cannot be sent as it is (docs/braze-api.md §2.1): Braze would answer 201
// and silently not store it, so the row is rejected with the reason instead.
const (
	reasonMixedArray   = "JSON array mixes objects with other values, or nests arrays (Braze stores neither)"
	reasonDuplicateMem = "JSON object has the same key twice"
	maxJSONValueDepth  = 32
)

// appendBrazeJSON writes a raw JSON value (a CloudQuery JSON cell: a Snowflake VARIANT, OBJECT or
// ARRAY, an NDJSON object) as Braze stores it, in one pass over the bytes:
//
//   - null members of objects and null elements of arrays are left out, and counted in *nulls:
//     objects replace the stored ones (brazesync never sends _merge_objects), so a null member means
//     what an absent one does, while a null inside a nested value would make Braze drop every nested
//     update of the request;
//   - everything else is copied byte for byte (numbers keep their digits, strings their escapes),
//     without insignificant whitespace;
//   - a value Braze would not store is refused with a reason: an array mixing objects and other
//     values or nesting arrays, an invalid nested key or the same key twice, a string over 255
//     characters or not valid UTF-8, a number a 64-bit float cannot hold, nesting over 32 levels, or
//     text that is not JSON.
//
// On a reason, dst must be discarded by the caller.
func appendBrazeJSON(dst, raw []byte, nulls *int) ([]byte, string) {
	r := jsonRewriter{in: raw, out: dst}
	r.value(0)
	if r.reason == "" {
		r.space()
		if r.pos != len(r.in) {
			r.fail(reasonInvalidJSON)
		}
	}
	if r.reason != "" {
		return dst, r.reason
	}
	*nulls += r.nulls
	return r.out, ""
}

// checkBrazeJSON reports why raw cannot be sent, or "" when it can (nulls would be left out).
func checkBrazeJSON(raw []byte) string {
	var n int
	_, reason := appendBrazeJSON(nil, raw, &n)
	return reason
}

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonScalar
	jsonArray
	jsonObject
)

// jsonRewriter is the state of one appendBrazeJSON call. After the first failure every method
// returns at once; the caller reads reason.
type jsonRewriter struct {
	in     []byte
	pos    int
	out    []byte
	nulls  int
	reason string
	key    []byte // scratch: the decoded key being checked
	keys   []byte // the decoded keys of the open objects, for duplicates
	spans  []int  // start offsets of those keys in keys, one per key
	sets   []keySet
}

func (r *jsonRewriter) fail(reason string) {
	if r.reason == "" {
		r.reason = reason
	}
}

func (r *jsonRewriter) space() {
	for r.pos < len(r.in) {
		switch r.in[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// peek returns the next significant byte, or 0 at the end.
func (r *jsonRewriter) peek() byte {
	r.space()
	if r.pos >= len(r.in) {
		return 0
	}
	return r.in[r.pos]
}

// skipNull consumes a null literal if one is next.
func (r *jsonRewriter) skipNull() bool {
	if r.peek() != 'n' {
		return false
	}
	if !r.literal("null", false) {
		return false
	}
	r.nulls++
	return true
}

// value rewrites one value; depth is the nesting of the containers around it.
func (r *jsonRewriter) value(depth int) jsonKind {
	switch c := r.peek(); {
	case r.reason != "":
		return jsonNull
	case c == '{':
		r.object(depth + 1)
		return jsonObject
	case c == '[':
		r.array(depth + 1)
		return jsonArray
	case c == '"':
		r.str(false)
	case c == 't':
		r.literal("true", true)
	case c == 'f':
		r.literal("false", true)
	case c == 'n':
		r.literal("null", true)
		return jsonNull
	case c == '-' || c >= '0' && c <= '9':
		r.number()
	default:
		r.fail(reasonInvalidJSON)
	}
	return jsonScalar
}

func (r *jsonRewriter) literal(lit string, write bool) bool {
	if len(r.in)-r.pos < len(lit) || string(r.in[r.pos:r.pos+len(lit)]) != lit {
		r.fail(reasonInvalidJSON)
		return false
	}
	r.pos += len(lit)
	if write {
		r.out = append(r.out, lit...)
	}
	return true
}

func (r *jsonRewriter) object(depth int) {
	if depth > maxJSONValueDepth {
		r.fail(reasonNestedTooBig)
		return
	}
	r.pos++
	r.out = append(r.out, '{')
	base, keysLen, sets := len(r.spans), len(r.keys), len(r.sets)
	defer func() { r.spans, r.keys, r.sets = r.spans[:base], r.keys[:keysLen], r.sets[:sets] }()
	if r.peek() == '}' {
		r.pos++
		r.out = append(r.out, '}')
		return
	}
	written := 0
	for r.reason == "" {
		if r.member(depth, base, written > 0) {
			written++
		}
		switch r.peek() {
		case ',':
			r.pos++
		case '}':
			r.pos++
			r.out = append(r.out, '}')
			return
		default:
			r.fail(reasonInvalidJSON)
		}
	}
}

// member rewrites `"key": value` and reports whether it wrote it: a null member is removed again.
// base is the first key span of the enclosing object; comma says a member was written before.
func (r *jsonRewriter) member(depth, base int, comma bool) bool {
	mark := len(r.out)
	if r.peek() != '"' {
		r.fail(reasonInvalidJSON)
		return false
	}
	if comma {
		r.out = append(r.out, ',')
	}
	r.str(true)
	if r.reason != "" {
		return false
	}
	if !validNestedKey(bytesToString(r.key)) {
		r.fail(reasonNestedKey)
		return false
	}
	r.rememberKey(base)
	if r.peek() != ':' {
		r.fail(reasonInvalidJSON)
		return false
	}
	r.pos++
	r.out = append(r.out, ':')
	if r.skipNull() {
		r.out = r.out[:mark]
		return false
	}
	r.value(depth)
	return true
}

// rememberKey refuses a key the enclosing object already has: which of two values is the source's
// cannot be told, and Braze keeps one of them. Small objects are scanned; from
// linearKeys keys on, the object's keys go into a set.
func (r *jsonRewriter) rememberKey(base int) {
	n := len(r.spans) - base
	switch {
	case n < linearKeys:
		for k := base; k < len(r.spans); k++ {
			end := len(r.keys)
			if k+1 < len(r.spans) {
				end = r.spans[k+1]
			}
			if string(r.keys[r.spans[k]:end]) == string(r.key) {
				r.fail(reasonDuplicateMem)
				return
			}
		}
	case n == linearKeys:
		r.sets = append(r.sets, keySet{base: base, keys: map[string]bool{}})
		set := r.sets[len(r.sets)-1].keys
		for k := base; k < len(r.spans); k++ {
			end := len(r.keys)
			if k+1 < len(r.spans) {
				end = r.spans[k+1]
			}
			set[string(r.keys[r.spans[k]:end])] = true
		}
		fallthrough
	default:
		set := r.sets[len(r.sets)-1].keys
		if set[string(r.key)] {
			r.fail(reasonDuplicateMem)
			return
		}
		set[string(r.key)] = true
	}
	r.spans = append(r.spans, len(r.keys))
	r.keys = append(r.keys, r.key...)
}

// linearKeys is how many keys of one object are compared pairwise before a set is used.
const linearKeys = 16

// keySet holds the keys of one large open object; base is its first key span.
type keySet struct {
	base int
	keys map[string]bool
}

func (r *jsonRewriter) array(depth int) {
	if depth > maxJSONValueDepth {
		r.fail(reasonNestedTooBig)
		return
	}
	r.pos++
	r.out = append(r.out, '[')
	if r.peek() == ']' {
		r.pos++
		r.out = append(r.out, ']')
		return
	}
	written, objects := 0, 0
	for r.reason == "" {
		if !r.skipNull() {
			if r.peek() == '[' {
				r.fail(reasonMixedArray)
				return
			}
			if written > 0 {
				r.out = append(r.out, ',')
			}
			if r.value(depth) == jsonObject {
				objects++
			}
			written++
			if objects != 0 && objects != written {
				r.fail(reasonMixedArray)
				return
			}
		}
		switch r.peek() {
		case ',':
			r.pos++
		case ']':
			r.pos++
			r.out = append(r.out, ']')
			return
		default:
			r.fail(reasonInvalidJSON)
		}
	}
}

// str copies a string token; with asKey it also decodes it into r.key. Strings must be valid UTF-8
// (escapes included: a lone surrogate is not) and at most MaxStringChars characters.
func (r *jsonRewriter) str(asKey bool) {
	start := r.pos
	r.pos++
	r.key = r.key[:0]
	chars := 0
	for r.reason == "" {
		if r.pos >= len(r.in) {
			r.fail(reasonInvalidJSON)
			return
		}
		c := r.in[r.pos]
		switch {
		case c == '"':
			r.pos++
			if chars > MaxStringChars {
				r.fail(reasonTooLong)
				return
			}
			r.out = append(r.out, r.in[start:r.pos]...)
			return
		case c == '\\':
			r.escape(asKey)
		case c < 0x20:
			r.fail(reasonInvalidJSON)
		case c < utf8.RuneSelf:
			if asKey {
				r.key = append(r.key, c)
			}
			r.pos++
		default:
			ch, size := utf8.DecodeRune(r.in[r.pos:])
			if ch == utf8.RuneError && size == 1 {
				r.fail(reasonInvalidUTF8)
				return
			}
			if asKey {
				r.key = append(r.key, r.in[r.pos:r.pos+size]...)
			}
			r.pos += size
		}
		chars++
	}
}

// escape consumes one escape sequence (a surrogate pair counts as one).
func (r *jsonRewriter) escape(asKey bool) {
	if r.pos+1 >= len(r.in) {
		r.fail(reasonInvalidJSON)
		return
	}
	c := r.in[r.pos+1]
	if c != 'u' {
		d, ok := simpleEscapes[c]
		if !ok {
			r.fail(reasonInvalidJSON)
			return
		}
		if asKey {
			r.key = append(r.key, d)
		}
		r.pos += 2
		return
	}
	ch, ok := r.hex4(r.pos + 2)
	if !ok {
		return
	}
	r.pos += 6
	if ch >= 0xd800 && ch < 0xdc00 { // high surrogate: a low one must follow
		lo, ok := rune(-1), false
		if r.pos+1 < len(r.in) && r.in[r.pos] == '\\' && r.in[r.pos+1] == 'u' {
			lo, ok = r.hex4(r.pos + 2)
		}
		if !ok || lo < 0xdc00 || lo >= 0xe000 {
			r.fail(reasonInvalidUTF8)
			return
		}
		r.pos += 6
		ch = 0x10000 + (ch-0xd800)<<10 + (lo - 0xdc00)
	} else if ch >= 0xdc00 && ch < 0xe000 {
		r.fail(reasonInvalidUTF8)
		return
	}
	if asKey {
		r.key = utf8.AppendRune(r.key, ch)
	}
}

var simpleEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func (r *jsonRewriter) hex4(at int) (rune, bool) {
	if at+4 > len(r.in) {
		r.fail(reasonInvalidJSON)
		return 0, false
	}
	v, err := strconv.ParseUint(string(r.in[at:at+4]), 16, 16)
	if err != nil {
		r.fail(reasonInvalidJSON)
		return 0, false
	}
	return rune(v), true
}

// number copies a number token after checking its grammar and that a 64-bit float holds it: Braze
// stores numbers as doubles, and 1e400 (or 1e-400) would arrive as something else.
func (r *jsonRewriter) number() {
	start := r.pos
	end, nonZero, ok := scanNumber(r.in, r.pos)
	if !ok {
		r.fail(reasonInvalidJSON)
		return
	}
	text := bytesToString(r.in[start:end])
	f, err := strconv.ParseFloat(text, 64)
	if errors.Is(err, strconv.ErrRange) || f == 0 && nonZero {
		r.fail(reasonNumberRange)
		return
	}
	r.pos = end
	r.out = append(r.out, text...)
}

// scanNumber matches JSON's number grammar at b[i:]; nonZero reports a non-zero digit in the
// mantissa (so that a float reading zero is known to have underflowed).
func scanNumber(b []byte, i int) (end int, nonZero, ok bool) {
	digits := func(at int) int {
		for at < len(b) && b[at] >= '0' && b[at] <= '9' {
			nonZero = nonZero || b[at] != '0'
			at++
		}
		return at
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return i, false, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return j, false, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		mantissa := nonZero
		j := digits(i)
		nonZero = mantissa
		if j == i {
			return j, false, false
		}
		i = j
	}
	return i, nonZero, true
}

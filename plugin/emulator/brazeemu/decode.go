package brazeemu

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// decodeTrack parses a /users/track body. A hand-written parser handles the bodies
// clients actually send; whenever it meets anything it does not reproduce exactly
// (a syntax error, invalid UTF-8, a \u escape of a surrogate, a top-level key that only
// matches "attributes"/"events"/"purchases" case-insensitively, a repeated array) it
// gives up and encoding/json decodes the body, so accepted bodies, errors and values
// are always what encoding/json (with UseNumber) gives.
//
// The fast path exists because the emulator must be several times faster than
// brazesync for benchmarks to measure brazesync: encoding/json's reflection and its
// second scanning pass were ~45% of the emulator's CPU (docs/performance.md).
func decodeTrack(body []byte, req *trackRequest) error {
	return decodeTrackScratch(body, req, nil)
}

// decodeTrackScratch is decodeTrack taking the fast path's objects and arrays from sc
// (nil: allocate them).
func decodeTrackScratch(body []byte, req *trackRequest, sc *decodeScratch) error {
	if fastDecode(body, req, sc) {
		return nil
	}
	*req = trackRequest{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return dec.Decode(req)
}

// fastDecodeTrack fills req and reports true, or reports false having decided nothing.
// Strings are substrings of the body, so a string costs no allocation of its own. The
// body is viewed as a string without copying: the caller never changes it afterwards
// (handleTrack's body is read for this request only), which is what makes this safe.
func fastDecodeTrack(body []byte, req *trackRequest) bool { return fastDecode(body, req, nil) }

func fastDecode(body []byte, req *trackRequest, sc *decodeScratch) bool {
	if len(body) == 0 {
		return false
	}
	s := unsafe.String(unsafe.SliceData(body), len(body))
	p := parser{s: s, depth: 2, sc: sc} // inside the object and an array, as encoding/json counts
	p.skipSpace()
	if !p.consume('{') {
		return false
	}
	var seen [3]bool
	p.skipSpace()
	if p.consume('}') {
		return true
	}
	for {
		p.skipSpace()
		key, ok := p.str()
		if !ok {
			return false
		}
		p.skipSpace()
		if !p.consume(':') {
			return false
		}
		p.skipSpace()
		slot := trackSlot(key)
		switch {
		case slot >= 0 && seen[slot]:
			return false // repeated array: leave the merge rules to encoding/json
		case slot >= 0:
			seen[slot] = true
			if !p.topArray(req.field(slot)) {
				return false
			}
		case foldsToTrackKey(key):
			return false
		default:
			if _, ok := p.value(); !ok {
				return false
			}
		}
		p.skipSpace()
		if p.consume('}') {
			return true // encoding/json's Decoder ignores what follows the value too
		}
		if !p.consume(',') {
			return false
		}
	}
}

var trackKeys = [3]string{arrAttributes, arrEvents, arrPurchases}

func trackSlot(key string) int {
	for i, k := range trackKeys {
		if key == k {
			return i
		}
	}
	return -1
}

// foldsToTrackKey reports a key encoding/json would match to a field although it is
// not spelt exactly (its matching is case-insensitive, with Unicode folding).
func foldsToTrackKey(key string) bool {
	for _, k := range trackKeys {
		if strings.EqualFold(key, k) {
			return true
		}
	}
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			return true // e.g. U+017F folds to 's', U+212A to 'k': let encoding/json decide
		}
	}
	return false
}

func (r *trackRequest) field(slot int) *[]any {
	switch slot {
	case 0:
		return &r.Attributes
	case 1:
		return &r.Events
	}
	return &r.Purchases
}

// parser is a strict JSON reader over a string producing the values encoding/json
// decodes into `any` with UseNumber: map[string]any, []any, string, json.Number, bool,
// nil.
type parser struct {
	s     string
	i     int
	depth int
	sc    *decodeScratch // nil: allocate objects and arrays
}

// decodeScratch recycles the objects and arrays of decoded requests. They are garbage
// once a request is answered: validation copies every object or array it keeps
// (normaliseValue), so handleTrack hands them back for the next request. Allocating
// them was most of the emulator's remaining allocation (docs/performance.md).
//
// It also holds the request's validated writes (fieldOp, fieldOps), garbage too once
// the batch is applied.
type decodeScratch struct {
	freeMaps, usedMaps []map[string]any
	freeArrs, usedArrs [][]any
	fields             []fieldOp
	ops                []fieldOps
}

// Objects and arrays larger than these are not recycled: a big one kept for reuse
// would hold its memory for good.
const (
	scratchMapLen = 8
	scratchArrCap = 128
	scratchMax    = 4096 // recycled objects (and arrays) kept per scratch
)

var scratchPool = sync.Pool{New: func() any { return new(decodeScratch) }}

func (d *decodeScratch) newMap() map[string]any {
	var m map[string]any
	if n := len(d.freeMaps); n > 0 {
		m = d.freeMaps[n-1]
		d.freeMaps = d.freeMaps[:n-1]
	} else {
		m = make(map[string]any, scratchMapLen)
	}
	d.usedMaps = append(d.usedMaps, m)
	return m
}

func (d *decodeScratch) newArr() []any {
	if n := len(d.freeArrs); n > 0 {
		a := d.freeArrs[n-1]
		d.freeArrs = d.freeArrs[:n-1]
		return a
	}
	return make([]any, 0, 4)
}

// recycle makes every object and array handed out since the last recycle free again.
func (d *decodeScratch) recycle() {
	for _, m := range d.usedMaps {
		if len(m) <= scratchMapLen && len(d.freeMaps) < scratchMax {
			clear(m)
			d.freeMaps = append(d.freeMaps, m)
		}
	}
	clear(d.usedMaps)
	d.usedMaps = d.usedMaps[:0]
	for _, a := range d.usedArrs {
		if cap(a) <= scratchArrCap && len(d.freeArrs) < scratchMax {
			clear(a)
			d.freeArrs = append(d.freeArrs, a[:0])
		}
	}
	clear(d.usedArrs)
	d.usedArrs = d.usedArrs[:0]
	clear(d.fields)
	d.fields = d.fields[:0]
	clear(d.ops)
	d.ops = d.ops[:0]
}

// newFields returns an empty slice with room for n writes (nil d: a new one). Later
// calls never write into it: each slice's capacity ends where the next begins.
func (d *decodeScratch) newFields(n int) []fieldOp {
	if d == nil || n > 64 {
		return make([]fieldOp, 0, n)
	}
	if len(d.fields)+n > cap(d.fields) {
		d.fields = make([]fieldOp, 0, max(1024, 2*n)) // the old array stays with the ops using it
	}
	start := len(d.fields)
	d.fields = d.fields[:start+n]
	return d.fields[start : start : start+n]
}

func (d *decodeScratch) newFieldOps() *fieldOps {
	if d == nil {
		return &fieldOps{}
	}
	if len(d.ops) == cap(d.ops) {
		d.ops = make([]fieldOps, 0, 128)
	}
	d.ops = d.ops[:len(d.ops)+1]
	return &d.ops[len(d.ops)-1]
}

// maxDepth is encoding/json's nesting limit; deeper input is left to it (it fails).
const maxDepth = 10000

var literals = [...]struct {
	text string
	v    any
}{{"true", true}, {"false", false}, {"null", nil}}

func (p *parser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) consume(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// topArray parses one top-level array (or null, which leaves it absent).
func (p *parser) topArray(dst *[]any) bool {
	if strings.HasPrefix(p.s[p.i:], "null") {
		p.i += 4
		return true
	}
	if !p.consume('[') {
		return false // wrong type: encoding/json reports it
	}
	arr, ok := p.arrayRest()
	*dst = arr
	return ok
}

func (p *parser) value() (any, bool) {
	if p.i >= len(p.s) {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '{' || c == '[':
		if p.depth++; p.depth > maxDepth {
			return nil, false
		}
		p.i++
		var v any
		var ok bool
		if c == '{' {
			v, ok = p.objectRest()
		} else {
			v, ok = p.arrayRest()
		}
		p.depth--
		return v, ok
	case c == '"':
		s, ok := p.str()
		return s, ok
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, lit := range literals {
		if strings.HasPrefix(p.s[p.i:], lit.text) {
			p.i += len(lit.text)
			return lit.v, true
		}
	}
	return nil, false
}

// objectRest parses an object after its '{'. A repeated key keeps the last value, as
// encoding/json does.
func (p *parser) objectRest() (any, bool) {
	var m map[string]any
	if p.sc != nil {
		m = p.sc.newMap()
	} else {
		m = make(map[string]any, 8)
	}
	p.skipSpace()
	if p.consume('}') {
		return m, true
	}
	for {
		p.skipSpace()
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		p.skipSpace()
		if !p.consume(':') {
			return nil, false
		}
		p.skipSpace()
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		m[k] = v
		p.skipSpace()
		if p.consume('}') {
			return m, true
		}
		if !p.consume(',') {
			return nil, false
		}
	}
}

// arrayRest parses an array after its '['; an empty array is non-nil, as in
// encoding/json.
func (p *parser) arrayRest() ([]any, bool) {
	var out []any
	if p.sc != nil {
		out = p.sc.newArr()
		defer func() { p.sc.usedArrs = append(p.sc.usedArrs, out) }() // the final slice, after appends
	} else {
		out = make([]any, 0, 4)
	}
	p.skipSpace()
	if p.consume(']') {
		return out, true
	}
	for {
		p.skipSpace()
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		p.skipSpace()
		if p.consume(']') {
			return out, true
		}
		if !p.consume(',') {
			return nil, false
		}
	}
}

// str parses a string literal. Without escapes it is a substring of the input (no
// allocation); invalid UTF-8 and surrogate escapes give up, because encoding/json
// replaces them with U+FFFD in ways not worth copying here.
func (p *parser) str() (string, bool) {
	if !p.consume('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			s := p.s[start:p.i]
			p.i++
			return s, true
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			p.i += size
		}
	}
	return "", false
}

// escaped finishes a string that has escapes, from its first character at start.
func (p *parser) escaped(start int) (string, bool) {
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), true
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", false
			}
			e := p.s[p.i+1]
			p.i += 2
			if r, ok := simpleEscapes[e]; ok {
				b.WriteByte(r)
				continue
			}
			if e != 'u' || p.i+4 > len(p.s) {
				return "", false
			}
			r, ok := hex4(p.s[p.i : p.i+4])
			if !ok || (r >= 0xD800 && r < 0xE000) {
				return "", false
			}
			b.WriteRune(r)
			p.i += 4
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.i++
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			b.WriteString(p.s[p.i : p.i+size])
			p.i += size
		}
	}
	return "", false
}

var simpleEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func hex4(s string) (rune, bool) {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number parses a JSON number literal into json.Number, checking the grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *parser) number() (any, bool) {
	start := p.i
	p.consume('-')
	switch {
	case p.consume('0'):
	case p.i < len(p.s) && p.s[p.i] >= '1' && p.s[p.i] <= '9':
		p.digits()
	default:
		return nil, false
	}
	if p.consume('.') && !p.digits() {
		return nil, false
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if !p.consume('+') {
			p.consume('-')
		}
		if !p.digits() {
			return nil, false
		}
	}
	return json.Number(p.s[start:p.i]), true
}

// digits consumes [0-9]* and reports whether there was at least one.
func (p *parser) digits() bool {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

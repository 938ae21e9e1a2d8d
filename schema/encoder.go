package schema

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
)

// SkipReason says why a row was skipped. The zero value means not skipped.
type SkipReason uint8

// Skip reasons. String gives a stable snake_case name for counters.
const (
	SkipNone SkipReason = iota
	// SkipNullKey: the key column is null.
	SkipNullKey
	// SkipEmptyKey: the key is the empty string.
	SkipEmptyKey
	// SkipBlankKey: the key is only whitespace.
	SkipBlankKey
	// SkipNoAttributes is never returned by the Encoder; it is defined for
	// callers that add no members of their own and skip rows whose
	// RowResult.Attributes is 0.
	SkipNoAttributes
)

var skipNames = [...]string{"", "null_key", "empty_key", "blank_key", "no_attributes"}

func (s SkipReason) String() string {
	if int(s) < len(skipNames) {
		return skipNames[s]
	}
	return fmt.Sprintf("skip_%d", uint8(s))
}

// RowResult reports the outcome of AppendRow.
type RowResult struct {
	// Key is the user key text (alias_name for aliases); valid until the next
	// call; nil if the key is null.
	Key []byte
	// Skip is non-zero when the row was skipped.
	Skip SkipReason
	// Reject is non-nil when the row was rejected for the dead-letter file.
	Reject *FieldError
	// Attributes counts the attribute members written (identifier excluded).
	Attributes int
}

// FieldError says which value of a row could not be sent and why. It never
// carries values, so it is safe to log.
type FieldError struct {
	Row       int
	Column    string
	Attribute string
	Reason    string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("row %d: column %q (attribute %q): %s", e.Row, e.Column, e.Attribute, e.Reason)
}

// Encoder turns rows of records with the mapping's schema into the members
// of Braze attribute objects. It is reusable across records and, in steady
// state, allocates nothing per row. An Encoder is not safe for concurrent
// use; make one per goroutine.
type Encoder struct {
	m      *Mapping
	key    keyReader
	keyBuf []byte
	prefix []byte // "external_id": or "user_alias":{"alias_name":
	suffix []byte // "" or ,"alias_label":"L"}
	fields []encField
	unset  bool
	bound  bool
}

type encField struct {
	out    outField
	column string
	member []byte // ,"attr":
	w      valueWriter
}

// NewEncoder returns an Encoder for the mapping.
func (m *Mapping) NewEncoder() *Encoder {
	e := &Encoder{m: m, unset: m.cfg.Nulls == NullsUnset}
	var err error
	if e.key, err = newKeyReader(m.schema.Field(m.keyCol).Type); err != nil {
		panic(err) // checked by NewMapping
	}
	if m.keyName == UserKeyUserAlias {
		e.prefix = append(e.prefix, `"user_alias":{"alias_name":`...)
		e.suffix = append(e.suffix, `,"alias_label":`...)
		e.suffix, _ = appendString(e.suffix, m.cfg.AliasLabel, 0, false)
		e.suffix = append(e.suffix, '}')
	} else {
		e.prefix = appendKey(e.prefix, m.keyName)
	}
	for _, f := range m.fields {
		w, err := m.newFieldWriter(f)
		if err != nil {
			panic(err) // checked by NewMapping
		}
		member := appendKey([]byte{','}, f.attr)
		e.fields = append(e.fields, encField{out: f, column: m.schema.Field(f.col).Name, member: member, w: w})
	}
	return e
}

// Reset binds the encoder to rec, which must have the mapping's schema
// (same column names and types, in order).
func (e *Encoder) Reset(rec arrow.Record) error {
	e.bound = false
	sc := rec.Schema()
	if sc.NumFields() != e.m.schema.NumFields() {
		return fmt.Errorf("binding record: %d columns, mapping has %d", sc.NumFields(), e.m.schema.NumFields())
	}
	for i, f := range e.m.schema.Fields() {
		g := sc.Field(i)
		if g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			return fmt.Errorf("binding record: column %d is %q %s, mapping has %q %s", i, g.Name, g.Type, f.Name, f.Type)
		}
	}
	if err := e.key.bind(rec.Column(e.m.keyCol)); err != nil {
		return fmt.Errorf("binding key column %q: %w", e.m.KeyColumn(), err)
	}
	for k := range e.fields {
		f := &e.fields[k]
		if err := f.w.bind(rec.Column(f.out.col)); err != nil {
			return fmt.Errorf("binding column %q: %w", f.column, err)
		}
	}
	e.bound = true
	return nil
}

// AppendRow appends the members of row's attributes object, without braces:
// the identifier first, then each non-skipped attribute. On Skip or Reject
// dst is returned unchanged. Reset must have succeeded.
func (e *Encoder) AppendRow(dst []byte, row int) ([]byte, RowResult) {
	if !e.bound {
		panic("schema: AppendRow before a successful Reset")
	}
	if e.key.isNull(row) {
		return dst, RowResult{Skip: SkipNullKey}
	}
	e.keyBuf = e.key.appendText(e.keyBuf[:0], row)
	res := RowResult{Key: e.keyBuf}
	if len(e.keyBuf) == 0 {
		res.Skip = SkipEmptyKey
		return dst, res
	}
	if isBlank(e.keyBuf) {
		res.Skip = SkipBlankKey
		return dst, res
	}
	start := len(dst)
	dst = append(dst, e.prefix...)
	dst, _ = appendString(dst, bytesToString(e.keyBuf), 0, false)
	dst = append(dst, e.suffix...)
	var reason string
	for k := range e.fields {
		f := &e.fields[k]
		if f.w.isNull(row) {
			if e.unset {
				dst = append(dst, f.member...)
				dst = append(dst, "null"...)
				res.Attributes++
			}
			continue
		}
		dst = append(dst, f.member...)
		if dst, reason = f.w.appendValue(dst, row); reason != "" {
			res.Reject = &FieldError{Row: row, Column: f.column, Attribute: f.out.attr, Reason: reason}
			return dst[:start], res
		}
		res.Attributes++
	}
	return dst, res
}

// isBlank reports a key made only of whitespace (ASCII and the common
// Unicode spaces).
func isBlank(b []byte) bool {
	for _, r := range bytesToString(b) {
		switch r {
		case ' ', '\t', '\n', '\r', '\v', '\f', 0x85, 0xA0, 0x2028, 0x2029, 0x3000, 0xFEFF:
		default:
			if r < 0x2000 || r > 0x200B {
				return false
			}
		}
	}
	return true
}

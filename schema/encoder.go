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
	// call; nil if the key is null, or refused (it may not even be text).
	Key []byte
	// Skip is non-zero when the row was skipped.
	Skip SkipReason
	// Reject is non-nil when the row was rejected for the dead-letter file.
	Reject *FieldError
	// Attributes counts the attribute members written (identifier excluded).
	Attributes int
	// NullsDropped counts the nulls left out inside the row's values: list
	// elements, struct fields, map items, JSON members and elements. Objects
	// replace the stored ones (brazesync never sends _merge_objects), so an
	// absent member and a null member mean the same to Braze; a null inside a
	// nested value would make Braze drop every nested update of the request.
	NullsDropped int
}

// Reject codes: the dead-letter reason (and rows_rejected key) of a FieldError.
const (
	// RejectInvalidValue: a value Braze would not store as it is.
	RejectInvalidValue = "invalid_value"
	// RejectInvalidKey: the user key is not valid UTF-8, holds a control
	// character, or is too long; keys are never altered.
	RejectInvalidKey = "invalid_key"
	// RejectUnreadableRow: the source could not read the row faithfully and
	// said so in the ColumnRejected column.
	RejectUnreadableRow = "unreadable_row"
)

// FieldError says which value of a row could not be sent and why. It never
// carries values, so it is safe to log.
type FieldError struct {
	Row       int
	Column    string
	Attribute string
	Reason    string
	// Code is one of the Reject* codes.
	Code string
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
	reject rejectReader // the source's ColumnRejected, when the schema has it
	nulls  int          // nulls dropped in the row being written, counted by the writers
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
		w, err := m.newFieldWriter(f, &e.nulls)
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
	if e.m.rejectCol >= 0 {
		if err := e.reject.bind(rec.Column(e.m.rejectCol)); err != nil {
			return fmt.Errorf("binding column %q: %w", ColumnRejected, err)
		}
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
//
// The order of the checks decides the reason a row is counted under: a row
// the source could not read is rejected first (its key may be garbage too),
// then the key may skip the row (null, empty, blank) or reject it (not
// sendable as it is), then each value may reject it.
func (e *Encoder) AppendRow(dst []byte, row int) ([]byte, RowResult) {
	if !e.bound {
		panic("schema: AppendRow before a successful Reset")
	}
	if e.m.rejectCol >= 0 && !e.reject.isNull(row) {
		return dst, RowResult{Reject: e.reject.fieldError(row)}
	}
	res, ok := e.readKey(row)
	if !ok {
		return dst, res
	}
	start := len(dst)
	dst = append(dst, e.prefix...)
	dst, _ = appendString(dst, bytesToString(e.keyBuf), 0, false) // checked by readKey
	dst = append(dst, e.suffix...)
	e.nulls = 0
	for k := range e.fields {
		var reason string
		if dst, reason = e.appendField(dst, &e.fields[k], row, &res); reason != "" {
			f := &e.fields[k]
			res.Reject = &FieldError{Row: row, Column: f.column, Attribute: f.out.attr, Reason: reason, Code: RejectInvalidValue}
			return dst[:start], res
		}
	}
	res.NullsDropped = e.nulls
	return dst, res
}

// readKey renders the row's key into keyBuf and decides whether the row can
// go on: ok is false when res says why it is skipped or rejected.
func (e *Encoder) readKey(row int) (res RowResult, ok bool) {
	if e.key.isNull(row) {
		return RowResult{Skip: SkipNullKey}, false
	}
	e.keyBuf = e.key.appendText(e.keyBuf[:0], row)
	res.Key = e.keyBuf
	switch {
	case len(e.keyBuf) == 0:
		res.Skip = SkipEmptyKey
	case isBlank(e.keyBuf):
		res.Skip = SkipBlankKey
	default:
		if p := checkKey(bytesToString(e.keyBuf)); p != keyOK {
			return RowResult{Reject: &FieldError{Row: row, Column: e.m.KeyColumn(), Attribute: e.m.keyName,
				Reason: p.reason(), Code: RejectInvalidKey}}, false
		}
		return res, true
	}
	return res, false
}

// appendField writes one attribute member, or nothing for a null under
// nulls: skip. A non-empty reason means the row must be rejected.
func (e *Encoder) appendField(dst []byte, f *encField, row int, res *RowResult) ([]byte, string) {
	if f.w.isNull(row) {
		if e.unset {
			dst = append(dst, f.member...)
			dst = append(dst, "null"...)
			res.Attributes++
		}
		return dst, ""
	}
	dst = append(dst, f.member...)
	dst, reason := f.w.appendValue(dst, row)
	if reason == "" {
		res.Attributes++
	}
	return dst, reason
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

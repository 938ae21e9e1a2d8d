package file

import (
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/cloudquery/plugin-sdk/v4/types"
)

// Type inference for CSV and NDJSON, read from the whole file before anything is sent.
//
// Each value has a kind; a column's kind is the join of its values' kinds, so it is the narrowest
// kind that holds every value of the column exactly. The kinds form three families: numbers
// (int ⊂ float ⊂ number), text (date ⊂ timestamp ⊂ string) and booleans; NDJSON adds arrays of
// strings and JSON. Within a family the join is the wider kind; across families it is the top:
// string for CSV (every cell is text) and JSON for NDJSON (every value is JSON). So a CSV column
// holding 100 and 1.01 is float64, one holding a date and 0000-00-00 is text, and an NDJSON
// column holding 1 and "one" is JSON, each value sent as written. No value is ever replaced by a
// default: a value that fits no type but the top is sent as its text (CSV) or raw JSON (NDJSON),
// and a value Braze cannot store (a number no 64-bit float holds, invalid UTF-8) is refused by
// the destination, row by row, naming the column. docs/mapping.md states the rules.
type kind uint8

const (
	kindNull      kind = iota // only nulls so far: becomes a string column
	kindBool                  // true/false (CSV: any case)
	kindInt                   // JSON integer syntax within int64
	kindFloat                 // JSON number syntax that a float64 holds exactly
	kindNumber                // other JSON numbers: sent verbatim as a JSON number
	kindDate                  // YYYY-MM-DD, a real date
	kindTimestamp             // RFC 3339 date-time (or zone-less: UTC), microsecond precision
	kindString                // any text
	kindStrings               // NDJSON only: arrays of strings (and nulls)
	kindJSON                  // NDJSON only: any JSON value, sent verbatim
)

var kindNames = [...]string{"null", "boolean", "integer", "float", "number", "date", "timestamp", "string", "array of strings", "JSON"}

func (k kind) String() string { return kindNames[k] }

type family uint8

const (
	famNone family = iota
	famBool
	famNumber
	famText
	famStrings
	famJSON
)

var families = [...]family{famNone, famBool, famNumber, famNumber, famNumber, famText, famText, famText, famStrings, famJSON}

// join is the narrowest kind holding values of kinds a and b; top is the format's widest kind.
func join(a, b, top kind) kind {
	switch {
	case a == b || b == kindNull:
		return a
	case a == kindNull:
		return b
	case families[a] != families[b]:
		return top
	case families[a] == famText && (a == kindString || b == kindString):
		return kindString
	}
	return max(a, b) // numbers: int < float < number; text: date < timestamp
}

// arrowType is the column type of a kind.
func (k kind) arrowType() arrow.DataType {
	switch k {
	case kindBool:
		return arrow.FixedWidthTypes.Boolean
	case kindInt:
		return arrow.PrimitiveTypes.Int64
	case kindFloat:
		return arrow.PrimitiveTypes.Float64
	case kindNumber, kindJSON:
		return types.NewJSONType()
	case kindDate:
		return arrow.FixedWidthTypes.Date32
	case kindTimestamp:
		return timestampUTC
	case kindStrings:
		return arrow.ListOf(arrow.BinaryTypes.String)
	}
	return arrow.BinaryTypes.String
}

var timestampUTC = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// textKind classifies a piece of text (a CSV cell, an NDJSON string). The empty string is a null
// for CSV; callers decide.
func textKind(s string, csv bool) kind {
	if s == "" {
		return kindString
	}
	switch c := s[0]; {
	case c == '-' || c >= '0' && c <= '9':
		if csv {
			if k, ok := numberKind(s); ok {
				return k
			}
		}
		if len(s) >= 10 && c != '-' {
			return dateKind(s)
		}
	case csv && (c == 't' || c == 'T' || c == 'f' || c == 'F'):
		if isBoolText(s) {
			return kindBool
		}
	}
	return kindString
}

func isBoolText(s string) bool {
	return len(s) == 4 && (s == "true" || s == "True" || s == "TRUE") ||
		len(s) == 5 && (s == "false" || s == "False" || s == "FALSE")
}

// numberKind classifies text in JSON's number grammar (so "007", "+5", ".5" and "5." are text, not
// numbers: a number would change what they say).
func numberKind(s string) (kind, bool) {
	end, integer, ok := scanNumber(s)
	if !ok || end != len(s) {
		return kindString, false
	}
	if integer {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return kindInt, true
		}
	}
	if exactFloat(s) {
		return kindFloat, true
	}
	return kindNumber, true
}

// scanNumber matches JSON's number grammar at the start of s; integer reports no fraction and no
// exponent.
func scanNumber(s string) (end int, integer, ok bool) {
	i := 0
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return i, false, false
	}
	integer = true
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return i, false, false
		}
		integer = false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return i, false, false
		}
		integer = false
	}
	return i, integer, true
}

// exactFloat reports whether the float64 nearest to the decimal s, written back in its shortest
// form (as the destination writes floats), is the same number as s. With at most 15 significant
// digits, far from the ends of the range, it always is (a float64 holds 15 decimal digits); other
// numbers are compared exactly.
func exactFloat(s string) bool {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of range
		return false
	}
	if sig, exp := significantDigits(s); sig <= 15 && exp+len(s) < 280 && exp-len(s) > -280 {
		return true
	}
	a, ok := new(big.Rat).SetString(s)
	if !ok {
		return false
	}
	b, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return ok && a.Cmp(b) == 0
}

// significantDigits counts the mantissa's significant digits (leading and trailing zeros excluded)
// and returns the written exponent (0 without one).
func significantDigits(s string) (sig, exp int) {
	seen, zeros := false, 0
	i := 0
	for ; i < len(s) && s[i] != 'e' && s[i] != 'E'; i++ {
		switch c := s[i]; {
		case c > '0' && c <= '9':
			sig += zeros + 1
			zeros, seen = 0, true
		case c == '0' && seen:
			zeros++
		}
	}
	if i < len(s) {
		exp, _ = strconv.Atoi(s[i+1:])
	}
	return sig, exp
}

// Layouts of the date-times recognised as timestamps; time.Parse also takes a fraction of a second
// after the seconds.
var (
	zonedLayouts    = []string{time.RFC3339, "2006-01-02 15:04:05Z07:00"}
	zonelessLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05"}
)

// dateKind classifies text starting with a digit: a date, a date-time, or text.
func dateKind(s string) kind {
	if len(s) == 10 {
		if _, ok := parseDate(s); ok {
			return kindDate
		}
		return kindString
	}
	if _, ok := parseTimestamp(s); ok {
		return kindTimestamp
	}
	return kindString
}

// parseDate reads YYYY-MM-DD (a real calendar date) as days since the epoch.
func parseDate(s string) (arrow.Date32, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, false
	}
	return arrow.Date32FromTime(t), true
}

// parseTimestamp reads an RFC 3339 date-time (T or space; a zone-less one is taken as UTC) as
// microseconds since the epoch. A fraction finer than a microsecond would be cut, so such text is
// not a timestamp.
func parseTimestamp(s string) (arrow.Timestamp, bool) {
	if len(s) < 19 || s[10] != 'T' && s[10] != ' ' {
		return 0, false
	}
	layouts := zonelessLayouts
	if last := s[len(s)-1]; last == 'Z' || len(s) > 19 && (s[len(s)-6] == '+' || s[len(s)-6] == '-') {
		layouts = zonedLayouts
	}
	for _, l := range layouts {
		t, err := time.Parse(l, s)
		if err != nil {
			continue
		}
		if t.Nanosecond()%1000 != 0 || t.Year() < 1 || t.Year() > 9999 {
			return 0, false
		}
		return arrow.Timestamp(t.UnixMicro()), true
	}
	return 0, false
}

// column is what inference learned about one column.
type column struct {
	name string
	kind kind
	// sample is the kind after the first sampleRows rows; widenedAt the first row (0-based) whose
	// value made the column wider than that, or -1. A reader that looks only at the start of a
	// file would have typed the column as sample.
	sample    kind
	widenedAt int64
	// pin is the kind the spec's types: (or a braze_id tag) gives the column, or kindNull.
	pin kind
}

// sampleRows is how many rows "the start of the file" means for the sample-versus-later note.
const sampleRows = 1000

// see widens c by a value of kind k in row (0-based).
func (c *column) see(k kind, row int64, top kind) {
	n := join(c.kind, k, top)
	if n == c.kind {
		return
	}
	c.kind = n
	if row < sampleRows {
		c.sample = n
	} else if c.widenedAt < 0 && c.sample != kindNull {
		c.widenedAt = row
	}
}

// note says how the whole file typed the column differently from its first rows, or "".
func (c *column) note() string {
	if c.widenedAt < 0 {
		return ""
	}
	return fmt.Sprintf("values in the first %d rows are %s, but row %d (from 0) is not: the whole column is read as %s",
		sampleRows, c.sample, c.widenedAt, c.kind)
}

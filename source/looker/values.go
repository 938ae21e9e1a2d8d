package looker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// errNotCell is returned when a cell is not {"value": …}.
var errNotCell = errors.New("cell is not an object with a \"value\"")

// cellValue extracts the raw "value" of a plain cell, or of one pivot's cell
// when pivotKey is set. A missing cell or pivot key reads as null.
func cellValue(raw json.RawMessage, pivotKey string) (json.RawMessage, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	inner, found, ok := findMember(raw, pivotKey)
	switch {
	case !ok:
		return cellValueSlow(raw, pivotKey)
	case pivotKey == "":
		return inner, nil
	case !found:
		return nil, nil
	}
	return cellValue(inner, "")
}

// findMember scans a cell object by hand for its "value" member (pivotKey
// empty) or its pivotKey member, the last one if repeated, as encoding/json
// would. ok is false whenever the cell is anything but a well-formed object
// with plain keys, or has no "value": cellValueSlow decides those.
func findMember(raw []byte, pivotKey string) (v []byte, found, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false, false
	}
	if i = skipSpace(raw, i+1); i < len(raw) && raw[i] == '}' {
		i++
	} else {
		for {
			if i >= len(raw) || raw[i] != '"' {
				return nil, false, false
			}
			keyEnd, escaped, err := scanString(raw, i)
			if err != nil || escaped {
				return nil, false, false
			}
			key := raw[i+1 : keyEnd-1]
			start, err := expectColon(raw, keyEnd)
			if err != nil {
				return nil, false, false
			}
			start = skipSpace(raw, start)
			// Members nest one level below the cell, which encoding/json counts.
			end, err := scanValue(raw, start, false, maxNesting-1)
			if err != nil {
				return nil, false, false
			}
			switch {
			case pivotKey == "" && string(key) == "value":
				v, found = raw[start:end], true
			case pivotKey == "" && mayFoldToValue(key):
				return nil, false, false // struct fields match case-insensitively
			case pivotKey != "" && string(key) == pivotKey:
				v, found = raw[start:end], true
			case pivotKey != "" && !utf8.Valid(key):
				return nil, false, false // decoded keys replace invalid UTF-8
			}
			i = skipSpace(raw, end)
			if i >= len(raw) {
				return nil, false, false
			}
			if raw[i] == '}' {
				i++
				break
			}
			if raw[i] != ',' {
				return nil, false, false
			}
			i = skipSpace(raw, i+1)
		}
	}
	if skipSpace(raw, i) != len(raw) || (pivotKey == "" && !found) {
		return nil, false, false
	}
	return v, found, true
}

// mayFoldToValue reports whether encoding/json could match key to a field
// named "value": any case of it, or any non-ASCII key (Unicode folding).
func mayFoldToValue(key []byte) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return len(key) == len("value") && strings.EqualFold(string(key), "value")
}

// cellValueSlow is cellValue by encoding/json: the reference the fast path
// must agree with, and the fallback for cells it does not handle.
func cellValueSlow(raw json.RawMessage, pivotKey string) (json.RawMessage, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if pivotKey == "" {
		// The common case: one pass, "value" kept raw, the rest skipped.
		var c struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, errNotCell
		}
		if c.Value != nil {
			return c.Value, nil
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, errNotCell
	}
	if pivotKey != "" {
		inner, ok := obj[pivotKey]
		if !ok {
			return nil, nil
		}
		return cellValueSlow(inner, "")
	}
	if len(obj) > 0 {
		if _, isCell := obj["rendered"]; !isCell {
			return nil, errors.New("cell is pivoted (a map of pivot keys) but the field is not")
		}
	}
	return nil, nil
}

// Conversion errors never quote the value: it may be personal data.

// appendValue converts one raw JSON value to the builder's type and appends it.
// Values are read as bytes (no string per cell) and the common Looker
// formats are parsed by hand; anything else takes the general parsers.
func appendValue(b array.Builder, v json.RawMessage, loc *time.Location) error {
	if len(v) == 0 || bytes.Equal(v, []byte("null")) {
		b.AppendNull()
		return nil
	}
	t, ok := plainText(v)
	if !ok {
		t = []byte(textOfSlow(v))
	}
	switch bb := b.(type) {
	case *array.StringBuilder:
		bb.BinaryBuilder.Append(t) // copies t
	case *array.Int64Builder:
		n, err := parseInt(string(t))
		if err != nil {
			return err
		}
		bb.Append(n)
	case *array.Float64Builder:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return errors.New("not a number")
		}
		bb.Append(f)
	case *array.BooleanBuilder:
		y, err := parseYesNo(string(t))
		if err != nil {
			return err
		}
		bb.Append(y)
	case *array.Date32Builder:
		d, err := parseDate(t)
		if err != nil {
			return errors.New("not a date (YYYY-MM-DD)")
		}
		bb.Append(arrow.Date32FromTime(d))
	case *array.TimestampBuilder:
		ts, err := parseTime(t, loc)
		if err != nil {
			return err
		}
		bb.Append(arrow.Timestamp(ts.UTC().UnixMicro()))
	default:
		return fmt.Errorf("unsupported builder %T", b)
	}
	return nil
}

// textOf returns a JSON string's content, or any other JSON value's literal
// text (so numbers keep their exact digits).
func textOf(v json.RawMessage) string {
	if b, ok := plainText(v); ok {
		return string(b)
	}
	return textOfSlow(v)
}

// plainText returns a JSON string's content when reading it needs no
// decoding (no escapes, valid UTF-8), or a non-string value's text.
func plainText(v []byte) ([]byte, bool) {
	if len(v) == 0 || v[0] != '"' {
		return v, true
	}
	if len(v) < 2 || v[len(v)-1] != '"' {
		return nil, false
	}
	s := v[1 : len(v)-1]
	for _, c := range s {
		if !plainByte[c] {
			return nil, false
		}
	}
	return s, utf8.Valid(s)
}

// textOfSlow is textOf by encoding/json, for escaped strings and as the
// reference the fast path must agree with.
func textOfSlow(v json.RawMessage) string {
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			return s
		}
	}
	return string(v)
}

func parseInt(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, errors.New("not a whole number")
	}
	return int64(f), nil
}

func parseYesNo(s string) (bool, error) {
	if isASCII(s) { // the common case: compare without lowering a copy
		switch {
		case strings.EqualFold(s, "yes"), strings.EqualFold(s, "true"):
			return true, nil
		case strings.EqualFold(s, "no"), strings.EqualFold(s, "false"):
			return false, nil
		}
		return false, errNotYesNo
	}
	// Unicode lowering, exactly (EqualFold would also match e.g. "yeſ").
	switch strings.ToLower(s) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, errNotYesNo
}

var errNotYesNo = errors.New("not a yesno value")

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// parseDate reads YYYY-MM-DD as time.Parse(time.DateOnly) does; only
// well-formed dates take the hand-written path.
func parseDate(b []byte) (time.Time, error) {
	if len(b) == len(time.DateOnly) && b[4] == '-' && b[7] == '-' {
		y, okY := digits(b[0:4])
		m, okM := digits(b[5:7])
		d, okD := digits(b[8:10])
		if okY && okM && okD && validDay(y, m, d) {
			return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Parse(time.DateOnly, string(b))
}

// digits reads an unsigned decimal made only of digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func validDay(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	// Day 0 of the next month is the last day of this one.
	return d <= time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02 15",
}

// parseTime reads RFC 3339, or a zone-less datetime in loc. Looker's usual
// "YYYY-MM-DD HH:MM:SS" is read by hand, exactly as time.ParseInLocation
// reads it with the first layout (RFC 3339 needs a 'T' there).
func parseTime(b []byte, loc *time.Location) (time.Time, error) {
	if t, ok := plainDateTime(b, loc); ok {
		return t, nil
	}
	s := string(b)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a datetime")
}

// plainDateTime reads exactly "YYYY-MM-DD HH:MM:SS" with valid fields.
func plainDateTime(b []byte, loc *time.Location) (time.Time, bool) {
	if len(b) != len("2006-01-02 15:04:05") || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	d, err := parseDate(b[:10])
	if err != nil {
		return time.Time{}, false
	}
	h, okH := digits(b[11:13])
	mi, okM := digits(b[14:16])
	sec, okS := digits(b[17:19])
	if !okH || !okM || !okS || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(d.Year(), d.Month(), d.Day(), h, mi, sec, 0, loc), true
}

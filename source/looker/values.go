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
		return cellValue(inner, "")
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
func appendValue(b array.Builder, v json.RawMessage, loc *time.Location) error {
	if len(v) == 0 || bytes.Equal(v, []byte("null")) {
		b.AppendNull()
		return nil
	}
	switch bb := b.(type) {
	case *array.StringBuilder:
		bb.Append(textOf(v))
	case *array.Int64Builder:
		n, err := parseInt(textOf(v))
		if err != nil {
			return err
		}
		bb.Append(n)
	case *array.Float64Builder:
		f, err := strconv.ParseFloat(textOf(v), 64)
		if err != nil {
			return errors.New("not a number")
		}
		bb.Append(f)
	case *array.BooleanBuilder:
		t, err := parseYesNo(textOf(v))
		if err != nil {
			return err
		}
		bb.Append(t)
	case *array.Date32Builder:
		d, err := time.Parse(time.DateOnly, textOf(v))
		if err != nil {
			return errors.New("not a date (YYYY-MM-DD)")
		}
		bb.Append(arrow.Date32FromTime(d))
	case *array.TimestampBuilder:
		t, err := parseTime(textOf(v), loc)
		if err != nil {
			return err
		}
		bb.Append(arrow.Timestamp(t.UTC().UnixMicro()))
	default:
		return fmt.Errorf("unsupported builder %T", b)
	}
	return nil
}

// textOf returns a JSON string's content, or any other JSON value's literal
// text (so numbers keep their exact digits).
func textOf(v json.RawMessage) string {
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
	switch strings.ToLower(s) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, errors.New("not a yesno value")
}

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02 15",
}

func parseTime(s string, loc *time.Location) (time.Time, error) {
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

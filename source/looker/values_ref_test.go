package looker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// The conversions appendValue replaced, kept as the reference its fast
// paths must agree with.

// appendValue converts one raw JSON value to the builder's type and appends it.
func appendValueRef(b array.Builder, v json.RawMessage, loc *time.Location) error {
	if len(v) == 0 || bytes.Equal(v, []byte("null")) {
		b.AppendNull()
		return nil
	}
	switch bb := b.(type) {
	case *array.StringBuilder:
		bb.Append(textOfSlow(v))
	case *array.Int64Builder:
		n, err := parseInt(textOfSlow(v))
		if err != nil {
			return err
		}
		bb.Append(n)
	case *array.Float64Builder:
		f, err := strconv.ParseFloat(textOfSlow(v), 64)
		if err != nil {
			return errors.New("not a number")
		}
		bb.Append(f)
	case *array.BooleanBuilder:
		t, err := parseYesNoRef(textOfSlow(v))
		if err != nil {
			return err
		}
		bb.Append(t)
	case *array.Date32Builder:
		d, err := time.Parse(time.DateOnly, textOfSlow(v))
		if err != nil {
			return errors.New("not a date (YYYY-MM-DD)")
		}
		bb.Append(arrow.Date32FromTime(d))
	case *array.TimestampBuilder:
		t, err := parseTimeRef(textOfSlow(v), loc)
		if err != nil {
			return err
		}
		bb.Append(arrow.Timestamp(t.UTC().UnixMicro()))
	default:
		return fmt.Errorf("unsupported builder %T", b)
	}
	return nil
}

func parseYesNoRef(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true":
		return true, nil
	case "no", "false":
		return false, nil
	}
	return false, errors.New("not a yesno value")
}

func parseTimeRef(s string, loc *time.Location) (time.Time, error) {
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

package snowflakeemu

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// stageBindingThreshold is CLIENT_STAGE_ARRAY_BINDING_THRESHOLD as Snowflake sets it by default:
// gosnowflake sends an array binding of fewer values (rows × columns) in the request body.
const stageBindingThreshold = 65280

// bindParam is one entry of a query request's "bindings": the driver's Snowflake type name and the
// value as text, or, for an array binding, a JSON array of texts and nulls (one per row).
type bindParam struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

// bound is a request's bound values, in placeholder order: Rows has one entry per row, N values
// each. A plain binding is one row; an array binding (gosnowflake's sf.Array) is one row per
// element, which the statement runs once for.
type bound struct {
	Rows  [][]any
	Array bool
}

// parseBindings reads the bindings of a request. The driver names them "1", "2", … in
// placeholder order.
func parseBindings(params map[string]bindParam) (bound, error) {
	if len(params) == 0 {
		return bound{Rows: [][]any{nil}}, nil
	}
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, errA := strconv.Atoi(names[i])
		b, errB := strconv.Atoi(names[j])
		if errA == nil && errB == nil {
			return a < b
		}
		return names[i] < names[j]
	})
	cols := make([][]any, len(names))
	var b bound
	rows := -1
	for c, name := range names {
		p := params[name]
		vals, isArray, err := bindValues(p)
		if err != nil {
			return b, fmt.Errorf("binding %s: %w", name, err)
		}
		if c == 0 {
			b.Array, rows = isArray, len(vals)
		}
		if isArray != b.Array || len(vals) != rows {
			return b, fmt.Errorf("binding %s: array bindings must all have %d values", name, rows)
		}
		cols[c] = vals
	}
	b.Rows = make([][]any, rows)
	for r := range b.Rows {
		row := make([]any, len(cols))
		for c := range cols {
			row[c] = cols[c][r]
		}
		b.Rows[r] = row
	}
	return b, nil
}

// bindValues decodes one binding's value(s) and converts each to the emulator's storage form.
func bindValues(p bindParam) (vals []any, isArray bool, err error) {
	raw := strings.TrimSpace(string(p.Value))
	var texts []*string
	switch {
	case raw == "" || raw == "null":
		texts = []*string{nil}
	case strings.HasPrefix(raw, "["):
		isArray = true
		if err := json.Unmarshal(p.Value, &texts); err != nil {
			return nil, false, fmt.Errorf("decoding array binding: %w", err)
		}
	default:
		var s string
		if err := json.Unmarshal(p.Value, &s); err != nil {
			return nil, false, fmt.Errorf("decoding binding: %w", err)
		}
		texts = []*string{&s}
	}
	vals = make([]any, len(texts))
	for i, t := range texts {
		if t == nil {
			continue
		}
		if vals[i], err = bindValue(strings.ToUpper(p.Type), *t); err != nil {
			return nil, false, err
		}
	}
	return vals, isArray, nil
}

// bindValue converts one bound text, as the driver renders each type (gosnowflake's
// valueToString and snowflakeArrayToString), to the storage form.
func bindValue(typ, v string) (any, error) {
	switch typ {
	case "FIXED":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, nil
		}
		return v, nil
	case "REAL":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("Numeric value '%s' is not recognized", v)
		}
		return f, nil
	case "BOOLEAN":
		return canonicalBool(v)
	case "BINARY":
		b, err := hex.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("The following string is not a legal hex-encoded value: '%s'", v)
		}
		return b, nil
	case "DATE": // milliseconds since the epoch
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("Date '%s' is not recognized", v)
		}
		return time.UnixMilli(ms).UTC().Format(dayLayout), nil
	case "TIMESTAMP_NTZ", "TIMESTAMP_LTZ": // nanoseconds since the epoch
		ns, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("Timestamp '%s' is not recognized", v)
		}
		if typ == "TIMESTAMP_NTZ" {
			return time.Unix(0, ns).UTC().Format(ntzLayout), nil
		}
		return time.Unix(0, ns).UTC().Format(tzLayout), nil
	case "TIMESTAMP_TZ": // "<nanoseconds> <offset minutes + 1440>"
		nsText, offText, _ := strings.Cut(v, " ")
		ns, err1 := strconv.ParseInt(nsText, 10, 64)
		off, err2 := strconv.Atoi(offText)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("Timestamp '%s' is not recognized", v)
		}
		zone := time.FixedZone("", (off-1440)*60)
		return time.Unix(0, ns).In(zone).Format(tzLayout), nil
	}
	return v, nil // TEXT, and semi-structured values as JSON text
}

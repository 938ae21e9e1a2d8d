package snowflakeemu

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Type is a Snowflake logical column type as the emulator reports it in a
// result's rowtype. Kind is the lower-case rowtype name ("fixed", "real",
// "text", "boolean", "date", "timestamp_ntz", "timestamp_ltz",
// "timestamp_tz", "variant", "array", "object", "binary").
type Type struct {
	Kind      string
	Precision int
	Scale     int
}

// Snowflake's defaults for types declared without parameters.
const (
	defaultNumberPrecision = 38
	defaultTimestampScale  = 9
	maxTextLength          = 16777216
)

// ParseType reads a Snowflake type name such as "NUMBER(10,2)", "INT",
// "VARCHAR(255)", "TIMESTAMP_TZ(3)" or "VARIANT". ok is false for names the
// emulator does not know (SQLite's own INTEGER/TEXT declarations included,
// which callers handle separately).
func ParseType(s string) (t Type, ok bool) {
	name, args := splitTypeArgs(strings.ToUpper(strings.TrimSpace(s)))
	switch name {
	case "NUMBER", "NUMERIC", "DECIMAL":
		t = Type{Kind: "fixed", Precision: defaultNumberPrecision}
		if len(args) > 0 {
			t.Precision = args[0]
		}
		if len(args) > 1 {
			t.Scale = args[1]
		}
	case "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT":
		t = Type{Kind: "fixed", Precision: defaultNumberPrecision}
	case "FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION", "REAL":
		t = Type{Kind: "real"}
	case "VARCHAR", "STRING", "TEXT", "CHAR", "CHARACTER":
		t = Type{Kind: "text"}
	case "BOOLEAN":
		t = Type{Kind: "boolean"}
	case "DATE":
		t = Type{Kind: "date"}
	case "TIMESTAMP_NTZ", "DATETIME", "TIMESTAMP", "TIMESTAMPNTZ":
		t = Type{Kind: "timestamp_ntz", Scale: defaultTimestampScale}
	case "TIMESTAMP_LTZ", "TIMESTAMPLTZ":
		t = Type{Kind: "timestamp_ltz", Scale: defaultTimestampScale}
	case "TIMESTAMP_TZ", "TIMESTAMPTZ":
		t = Type{Kind: "timestamp_tz", Scale: defaultTimestampScale}
	case "VARIANT":
		t = Type{Kind: "variant"}
	case "ARRAY":
		t = Type{Kind: "array"}
	case "OBJECT":
		t = Type{Kind: "object"}
	case "BINARY", "VARBINARY":
		t = Type{Kind: "binary"}
	default:
		return Type{}, false
	}
	if strings.HasPrefix(t.Kind, "timestamp") && len(args) > 0 {
		t.Scale = args[0]
	}
	return t, true
}

// splitTypeArgs splits "NUMBER(10, 2)" into "NUMBER" and [10 2].
func splitTypeArgs(s string) (string, []int) {
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		return s, nil
	}
	var args []int
	for _, a := range strings.Split(s[open+1:len(s)-1], ",") {
		n, err := strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			args = append(args, n)
		}
	}
	return strings.TrimSpace(s[:open]), args
}

// String renders the type as Snowflake DDL would spell it.
func (t Type) String() string {
	switch t.Kind {
	case "fixed":
		return fmt.Sprintf("NUMBER(%d,%d)", t.Precision, t.Scale)
	case "real":
		return "FLOAT"
	case "text":
		return "VARCHAR"
	case "timestamp_ntz", "timestamp_ltz", "timestamp_tz":
		return fmt.Sprintf("%s(%d)", strings.ToUpper(t.Kind), t.Scale)
	}
	return strings.ToUpper(t.Kind)
}

// inferType picks a Snowflake type for an expression column from the SQLite
// storage class of its first non-NULL value: integers are NUMBER(38,0),
// floats are FLOAT, blobs are BINARY, everything else VARCHAR.
func inferType(v any) Type {
	switch v.(type) {
	case int64:
		return Type{Kind: "fixed", Precision: defaultNumberPrecision}
	case float64:
		return Type{Kind: "real"}
	case []byte:
		return Type{Kind: "binary"}
	}
	return Type{Kind: "text"}
}

// Storage layouts used inside SQLite (what sf_cast returns and seeding
// stores): timestamps are ISO text, NTZ without and LTZ/TZ with an offset.
const (
	ntzLayout = "2006-01-02 15:04:05.000000000"
	tzLayout  = "2006-01-02 15:04:05.000000000-07:00"
	dayLayout = "2006-01-02"
)

// parseLayouts are the text forms accepted for dates and timestamps.
var parseLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	dayLayout,
}

// toTime reads a SQLite value as a point in time. Numbers are epoch
// seconds, as in Snowflake's TO_TIMESTAMP(number). hasZone reports whether
// the text carried an explicit offset.
func toTime(v any) (t time.Time, hasZone bool, err error) {
	switch x := v.(type) {
	case int64:
		return time.Unix(x, 0).UTC(), false, nil
	case float64:
		sec, frac := math.Modf(x)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), false, nil
	case time.Time:
		return x, true, nil
	case string:
		s := strings.TrimSpace(x)
		for i, layout := range parseLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t, i < 3, nil
			}
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC(), false, nil
		}
		return time.Time{}, false, fmt.Errorf("Timestamp '%s' is not recognized", s)
	}
	return time.Time{}, false, fmt.Errorf("cannot convert %T to a timestamp", v)
}

// Canonical converts a SQLite value to the emulator's storage form for t:
// int64 for NUMBER(p,0), float64 for NUMBER(p,s) and FLOAT, 0/1 for
// BOOLEAN, 'YYYY-MM-DD' for DATE, ISO text for timestamps, JSON text for
// VARIANT/ARRAY/OBJECT, and text for VARCHAR. NULL stays nil.
func Canonical(t Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.Kind == "binary" {
		return canonicalBinary(v)
	}
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch t.Kind {
	case "fixed":
		return canonicalNumber(t, v)
	case "real":
		return toFloat(v)
	case "text":
		return toText(v), nil
	case "boolean":
		return canonicalBool(v)
	case "date":
		tm, _, err := toTime(v)
		if err != nil {
			return nil, err
		}
		return tm.Format(dayLayout), nil
	case "timestamp_ntz":
		tm, _, err := toTime(v)
		if err != nil {
			return nil, err
		}
		return tm.Format(ntzLayout), nil
	case "timestamp_ltz", "timestamp_tz":
		tm, _, err := toTime(v)
		if err != nil {
			return nil, err
		}
		if t.Kind == "timestamp_ltz" {
			tm = tm.UTC() // the emulator's session TIMEZONE is always UTC
		}
		return tm.Format(tzLayout), nil
	case "variant", "array", "object":
		return canonicalJSON(t, v)
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

func canonicalNumber(t Type, v any) (any, error) {
	f, err := toFloat(v)
	if err != nil {
		return nil, err
	}
	if t.Scale == 0 {
		if i, ok := v.(int64); ok {
			return i, nil
		}
		if s, ok := v.(string); ok {
			if i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
				return i, nil
			}
		}
		return int64(math.Round(f)), nil
	}
	// Exact: scale from the value's decimal text. Values with more than 15
	// significant digits stay text so SQLite does not round them through a
	// double; shorter ones are stored as REAL, which round-trips them.
	u, err := unscaled(v, t.Scale)
	if err != nil {
		return nil, err
	}
	txt := formatScaled(u, t.Scale)
	if len(strings.TrimLeft(u.String(), "-0")) > 15 {
		return txt, nil
	}
	return strconv.ParseFloat(txt, 64)
}

// formatScaled renders an unscaled integer as a decimal with scale digits.
func formatScaled(u *big.Int, scale int) string {
	s := new(big.Int).Abs(u).String()
	for len(s) <= scale {
		s = "0" + s
	}
	out := s[:len(s)-scale] + "." + s[len(s)-scale:]
	if u.Sign() < 0 {
		out = "-" + out
	}
	return out
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("Numeric value '%s' is not recognized", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("cannot convert %T to a number", v)
}

func toText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.Format(tzLayout)
	}
	return fmt.Sprint(v)
}

func canonicalBool(v any) (any, error) {
	switch x := v.(type) {
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "t", "yes", "y", "on", "1":
			return int64(1), nil
		case "false", "f", "no", "n", "off", "0":
			return int64(0), nil
		}
		return nil, fmt.Errorf("Boolean value '%s' is not recognized", x)
	}
	f, err := toFloat(v)
	if err != nil {
		return nil, err
	}
	if f != 0 {
		return int64(1), nil
	}
	return int64(0), nil
}

// canonicalJSON keeps valid JSON text as it is and encodes anything else as
// a JSON scalar, which is what PARSE_JSON/TO_VARIANT would give.
func canonicalJSON(t Type, v any) (any, error) {
	var doc any
	switch x := v.(type) {
	case string:
		if err := json.Unmarshal([]byte(x), &doc); err != nil {
			doc = x
		}
	default:
		doc = v
	}
	switch t.Kind {
	case "array":
		if _, ok := doc.([]any); !ok {
			doc = []any{doc}
		}
	case "object":
		if _, ok := doc.(map[string]any); !ok {
			return nil, fmt.Errorf("Invalid object value: %s", toText(v))
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", t, err)
	}
	return string(b), nil
}

// unscaled returns the integer Snowflake sends for a NUMBER(p,s) value: the
// value times 10^s, computed from its shortest decimal text so 123.45 gives
// exactly 12345.
func unscaled(v any, scale int) (*big.Int, error) {
	var s string
	switch x := v.(type) {
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		s = strings.TrimSpace(x)
	case bool:
		s = "0"
		if x {
			s = "1"
		}
	default:
		return nil, fmt.Errorf("cannot scale %T", v)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("Numeric value '%s' is not recognized", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	// Round half away from zero, as Snowflake does.
	num, den := r.Num(), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q, nil
}

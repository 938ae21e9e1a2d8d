package snowflakeemu

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
)

var registerOnce sync.Once
var registerErr error

// registerFunctions adds the Snowflake functions the emulator supports to
// every SQLite connection opened afterwards. Registration is global to the
// sqlite driver, so it happens once per process.
func registerFunctions() error {
	registerOnce.Do(func() {
		fns := map[string]struct {
			n  int32
			fn func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error)
		}{
			"sf_cast":          {2, fnCast},
			"to_timestamp":     {1, castTo("TIMESTAMP_NTZ")},
			"to_timestamp_ntz": {1, castTo("TIMESTAMP_NTZ")},
			"to_timestamp_ltz": {1, castTo("TIMESTAMP_LTZ")},
			"to_timestamp_tz":  {1, castTo("TIMESTAMP_TZ")},
			"to_date":          {1, castTo("DATE")},
			"parse_json":       {1, castTo("VARIANT")},
			"to_variant":       {1, castTo("VARIANT")},
			"to_boolean":       {1, castTo("BOOLEAN")},
			"to_varchar":       {1, castTo("VARCHAR")},
			"to_char":          {1, castTo("VARCHAR")},
			"dateadd":          {3, fnDateAdd},
			"timestampadd":     {3, fnDateAdd},
			"datediff":         {3, fnDateDiff},
			"timestampdiff":    {3, fnDateDiff},
			"date_part":        {2, fnDatePart},
			"date_trunc":       {2, fnDateTrunc},
			"iff":              {3, fnIff},
			"array_construct":  {-1, fnArrayConstruct},
			"object_construct": {-1, fnObjectConstruct},
		}
		for name, f := range fns {
			if err := sqlite.RegisterScalarFunction(name, f.n, f.fn); err != nil {
				registerErr = fmt.Errorf("registering %s: %w", name, err)
				return
			}
		}
		// Deterministic: SQLite computes CHR(92) and the like once per statement, not per row.
		for name, f := range binaryFunctions {
			if err := sqlite.RegisterDeterministicScalarFunction(name, f.n, f.fn); err != nil {
				registerErr = fmt.Errorf("registering %s: %w", name, err)
				return
			}
		}
	})
	return registerErr
}

func fnCast(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	name, _ := args[1].(string)
	t, ok := ParseType(name)
	if !ok {
		return nil, fmt.Errorf("unsupported data type '%s'", name)
	}
	return Canonical(t, args[0])
}

func castTo(name string) func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
	t, _ := ParseType(name)
	return func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		return Canonical(t, args[0])
	}
}

func fnIff(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	b, err := canonicalBool(args[0])
	if err != nil || args[0] == nil || b.(int64) == 0 {
		return args[2], nil
	}
	return args[1], nil
}

// partOf normalises a Snowflake date part name ("days", "d", "dd" → "day").
func partOf(v driver.Value) string {
	p := strings.ToLower(strings.TrimSpace(toText(v)))
	switch p {
	case "y", "yy", "yyyy", "years", "yr":
		return "year"
	case "mm", "mon", "mons", "months":
		return "month"
	case "w", "wk", "weeks":
		return "week"
	case "d", "dd", "days":
		return "day"
	case "h", "hh", "hours", "hr":
		return "hour"
	case "m", "mi", "min", "minutes":
		return "minute"
	case "s", "sec", "seconds":
		return "second"
	}
	return p
}

// timeArg reads a timestamp argument, keeping its offset when it has one.
func timeArg(v driver.Value) (time.Time, string, error) {
	tm, hasZone, err := toTime(v)
	layout := ntzLayout
	if hasZone {
		layout = tzLayout
	}
	if s, ok := v.(string); ok && len(strings.TrimSpace(s)) == len(dayLayout) {
		layout = dayLayout
	}
	return tm, layout, err
}

func fnDateAdd(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if args[1] == nil || args[2] == nil {
		return nil, nil
	}
	n, err := toFloat(args[1])
	if err != nil {
		return nil, err
	}
	tm, layout, err := timeArg(args[2])
	if err != nil {
		return nil, err
	}
	k := int(n)
	switch partOf(args[0]) {
	case "year":
		tm = tm.AddDate(k, 0, 0)
	case "month":
		tm = tm.AddDate(0, k, 0)
	case "week":
		tm = tm.AddDate(0, 0, 7*k)
	case "day":
		tm = tm.AddDate(0, 0, k)
	case "hour":
		tm = tm.Add(time.Duration(k) * time.Hour)
	case "minute":
		tm = tm.Add(time.Duration(k) * time.Minute)
	case "second":
		tm = tm.Add(time.Duration(k) * time.Second)
	default:
		return nil, fmt.Errorf("invalid date part '%s'", toText(args[0]))
	}
	if layout == dayLayout && partOf(args[0]) != "hour" && partOf(args[0]) != "minute" && partOf(args[0]) != "second" {
		return tm.Format(dayLayout), nil
	}
	if layout == dayLayout {
		layout = ntzLayout
	}
	return tm.Format(layout), nil
}

// fnDateDiff counts the part boundaries crossed from a to b, as Snowflake's
// DATEDIFF does (DATEDIFF(day, '… 23:59', '… 00:01' next day) is 1).
func fnDateDiff(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if args[1] == nil || args[2] == nil {
		return nil, nil
	}
	a, _, err := toTime(args[1])
	if err != nil {
		return nil, err
	}
	b, _, err := toTime(args[2])
	if err != nil {
		return nil, err
	}
	part := partOf(args[0])
	ta, err := truncate(part, a)
	if err != nil {
		return nil, err
	}
	tb, _ := truncate(part, b)
	switch part {
	case "year":
		return int64(tb.Year() - ta.Year()), nil
	case "month":
		return int64((tb.Year()-ta.Year())*12 + int(tb.Month()) - int(ta.Month())), nil
	case "week":
		return int64(tb.Sub(ta).Hours() / (24 * 7)), nil
	case "day":
		return int64(tb.Sub(ta).Hours() / 24), nil
	case "hour":
		return int64(tb.Sub(ta) / time.Hour), nil
	case "minute":
		return int64(tb.Sub(ta) / time.Minute), nil
	}
	return int64(tb.Sub(ta) / time.Second), nil
}

func truncate(part string, t time.Time) (time.Time, error) {
	y, m, d := t.Date()
	switch part {
	case "year":
		return time.Date(y, 1, 1, 0, 0, 0, 0, t.Location()), nil
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, t.Location()), nil
	case "week": // Snowflake's default WEEK_START is Monday
		day := time.Date(y, m, d, 0, 0, 0, 0, t.Location())
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)), nil
	case "day":
		return time.Date(y, m, d, 0, 0, 0, 0, t.Location()), nil
	case "hour":
		return t.Truncate(time.Hour), nil
	case "minute":
		return t.Truncate(time.Minute), nil
	case "second":
		return t.Truncate(time.Second), nil
	}
	return time.Time{}, fmt.Errorf("invalid date part '%s'", part)
}

func fnDateTrunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if args[1] == nil {
		return nil, nil
	}
	tm, layout, err := timeArg(args[1])
	if err != nil {
		return nil, err
	}
	tr, err := truncate(partOf(args[0]), tm)
	if err != nil {
		return nil, err
	}
	return tr.Format(layout), nil
}

func fnDatePart(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if args[1] == nil {
		return nil, nil
	}
	tm, _, err := toTime(args[1])
	if err != nil {
		return nil, err
	}
	switch partOf(args[0]) {
	case "epoch_second", "epoch":
		return tm.Unix(), nil
	case "epoch_millisecond":
		return tm.UnixMilli(), nil
	case "year":
		return int64(tm.Year()), nil
	case "month":
		return int64(tm.Month()), nil
	case "day":
		return int64(tm.Day()), nil
	case "hour":
		return int64(tm.Hour()), nil
	case "dayofweek":
		return int64(tm.Weekday()), nil
	}
	return nil, fmt.Errorf("invalid date part '%s'", toText(args[0]))
}

// jsonValue turns a SQLite value into a JSON value, parsing text that is
// itself JSON (as Snowflake's semi-structured values are).
func jsonValue(v driver.Value) any {
	if s, ok := v.(string); ok {
		var doc any
		if json.Unmarshal([]byte(s), &doc) == nil && (strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")) {
			return doc
		}
	}
	return v
}

func fnArrayConstruct(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	arr := make([]any, len(args))
	for i, a := range args {
		arr[i] = jsonValue(a)
	}
	b, err := json.Marshal(arr)
	return string(b), err
}

func fnObjectConstruct(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if len(args)%2 != 0 {
		return nil, fmt.Errorf("OBJECT_CONSTRUCT needs key/value pairs")
	}
	obj := map[string]any{}
	for i := 0; i < len(args); i += 2 {
		if args[i+1] != nil { // Snowflake drops NULL-valued keys
			obj[toText(args[i])] = jsonValue(args[i+1])
		}
	}
	b, err := json.Marshal(obj)
	return string(b), err
}

package brazeemu

import (
	"encoding/json"
	"strings"
	"time"
)

// dateLayouts are the date/time formats Braze accepts for attributes and event times
// (docs/braze-api.md §2.1). A value without a zone is read as UTC. The odd
// "ddd MM dd HH:mm:ss.TZD YYYY" form is approximated by Go's UnixDate/RubyDate layouts.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02",
	"01/02/2006",
	"1/2/2006",
	"01-02-2006",
	"1-2-2006",
	time.UnixDate,
	time.RubyDate,
}

// parseDate reports whether s is in one of Braze's date formats. Years above 3000 are
// not dates (they stay strings, §2.1).
func parseDate(s string) (time.Time, bool) {
	if len(s) < 8 || len(s) > 40 {
		return time.Time{}, false
	}
	c := s[0]
	if (c < '0' || c > '9') && !strings.ContainsAny(s[:3], "MTWFS") {
		return time.Time{}, false
	}
	if len(s) >= 23 && s[10] == 'T' && s[19] == ':' {
		// yyyy-MM-dd'T'HH:mm:ss:SSSZ puts a colon before the milliseconds; Go's layouts
		// need a dot there.
		s = s[:19] + "." + s[20:]
	}
	for _, l := range dateLayouts {
		t, err := time.Parse(l, s)
		if err == nil {
			if t.Year() > 3000 {
				return time.Time{}, false
			}
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// normaliseNumber turns a decoded JSON number into int64 when it is integral and fits,
// else float64.
func normaliseNumber(n json.Number) any {
	// A literal with a fraction or exponent is never an int64: skip the attempt, whose
	// error allocates (it was 3 of the ~15 allocations per benchmark object).
	if i, ok := smallInt(string(n)); ok {
		return i
	}
	if !hasFractionOrExponent(string(n)) {
		if i, err := n.Int64(); err == nil {
			return i
		}
	}
	f, err := n.Float64()
	if err != nil {
		return n.String()
	}
	return f
}

func hasFractionOrExponent(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			return true
		}
	}
	return false
}

// smallInt parses an optional sign and 1 to 18 decimal digits (no overflow possible),
// the integers strconv.ParseInt(s, 10, 64) accepts that are that short, with the same
// result and without its general-purpose overhead.
func smallInt(s string) (int64, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// normaliseValue converts decoded JSON (or Go values given to Seed) into the stored
// representation. Top-level strings that look like dates become time.Time; strings in
// arrays and nested objects do not (dates in nested objects use {"$time": ...}).
func normaliseValue(v any, coerceDates bool) any {
	switch t := v.(type) {
	case json.Number:
		return normaliseNumber(t)
	case int:
		return int64(t)
	case int32:
		return int64(t)
	case int64:
		return t
	case uint32:
		return int64(t)
	case float32:
		return float64(t)
	case float64:
		return t
	case string:
		if coerceDates {
			if d, ok := parseDate(t); ok {
				return d
			}
		}
		return v // v already holds t: no new interface (allocation) needed
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = normaliseValue(x, false)
		}
		return out
	case map[string]any:
		if ts, ok := timeObject(t); ok {
			return ts
		}
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = normaliseValue(x, false)
		}
		return out
	default:
		return v
	}
}

// normaliseMap normalises every value of m; top-level date strings become times when
// coerceDates is set.
func normaliseMap(m map[string]any, coerceDates bool) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = normaliseValue(v, coerceDates)
	}
	return out
}

// timeObject recognises the nested-attribute date form {"$time": "1980-01-01"}.
func timeObject(m map[string]any) (time.Time, bool) {
	if len(m) != 1 {
		return time.Time{}, false
	}
	s, ok := m["$time"].(string)
	if !ok {
		return time.Time{}, false
	}
	return parseDate(s)
}

// exportValue renders a stored value for JSON output: times as ISO 8601 strings with
// milliseconds, the form the export endpoint is believed to use (§5, unconfirmed).
func exportValue(v any) any {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = exportValue(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = exportValue(x)
		}
		return out
	default:
		return v
	}
}

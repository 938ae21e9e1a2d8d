package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAppendBrazeJSON: JSON values are copied as written with null members and elements left out
// (and counted), and values Braze would silently not store are refused with a reason
// (docs/braze-api.md §2.1: arrays are sets of scalars or arrays of objects; nested keys have no '.', '$'
// or spaces; strings at most 255 characters).
func TestAppendBrazeJSON(t *testing.T) {
	tests := []struct {
		raw    string
		want   string // written JSON, or "!reason"
		nulls  int
		reason string
	}{
		{raw: `42`, want: `42`},
		{raw: ` "gold" `, want: `"gold"`},
		{raw: `["a", "b", 1, true]`, want: `["a","b",1,true]`},
		{raw: `[{"x":1},{"y":"z"}]`, want: `[{"x":1},{"y":"z"}]`},
		{raw: `{"plan":"gold","score":7,"tags":["a"]}`, want: `{"plan":"gold","score":7,"tags":["a"]}`},
		{raw: `{}`, want: `{}`},
		{raw: `[]`, want: `[]`},
		{raw: `12345678901234567890.123456789`, want: `12345678901234567890.123456789`},
		{raw: `"a\"b\u00e9\ud83d\ude00"`, want: `"a\"b\u00e9\ud83d\ude00"`},
		// Nulls are left out wherever they are nested, and counted.
		{raw: `{"x":null}`, want: `{}`, nulls: 1},
		{raw: `{"a":1,"x":null,"b":{"c":null,"d":2}}`, want: `{"a":1,"b":{"d":2}}`, nulls: 2},
		{raw: `{"x":null,"a":1}`, want: `{"a":1}`, nulls: 1},
		{raw: `[1,null,2]`, want: `[1,2]`, nulls: 1},
		{raw: `[null,{"x":null}]`, want: `[{}]`, nulls: 2},
		{raw: `[null]`, want: `[]`, nulls: 1},
		// Refusals.
		{raw: `[1,{"x":1}]`, reason: reasonMixedArray},
		{raw: `[{"x":1},1]`, reason: reasonMixedArray},
		{raw: `[[1],[2]]`, reason: reasonMixedArray},
		{raw: `{"a.b":1}`, reason: reasonNestedKey},
		{raw: `{"$a":1}`, reason: reasonNestedKey},
		{raw: `{"a b":1}`, reason: reasonNestedKey},
		{raw: `{"a\u0020b":1}`, reason: reasonNestedKey},
		{raw: `{"":1}`, reason: reasonNestedKey},
		{raw: `{"a":{"b":{"c.d":1}}}`, reason: reasonNestedKey},
		{raw: `{"a":1,"a":2}`, reason: reasonDuplicateMem},
		{raw: `{"a":null,"a":2}`, reason: reasonDuplicateMem},
		{raw: `{"a":{"k":1},"b":{"k":1}}`, want: `{"a":{"k":1},"b":{"k":1}}`},
		{raw: `"` + strings.Repeat("a", 256) + `"`, reason: reasonTooLong},
		{raw: `"` + strings.Repeat("é", 255) + `"`, want: `"` + strings.Repeat("é", 255) + `"`},
		{raw: `{"a":"` + strings.Repeat("\\u00e9", 256) + `"}`, reason: reasonTooLong},
		{raw: "\"u\xfe2\"", reason: reasonInvalidUTF8},
		{raw: `"\ud800"`, reason: reasonInvalidUTF8},
		{raw: `"\udc00x"`, reason: reasonInvalidUTF8},
		{raw: `1e400`, reason: reasonNumberRange},
		{raw: `-1e400`, reason: reasonNumberRange},
		{raw: `1e-400`, reason: reasonNumberRange},
		{raw: `0e-400`, want: `0e-400`},
		{raw: `{"a":1`, reason: reasonInvalidJSON},
		{raw: `{"a":1}x`, reason: reasonInvalidJSON},
		{raw: `01`, reason: reasonInvalidJSON},
		{raw: `1.`, reason: reasonInvalidJSON},
		{raw: `nul`, reason: reasonInvalidJSON},
		{raw: "\"a\tb\"", reason: reasonInvalidJSON},
		{raw: strings.Repeat("[", 40) + strings.Repeat("]", 40), reason: reasonMixedArray},
		{raw: strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40), reason: reasonNestedTooBig},
	}
	for _, tc := range tests {
		nulls := 0
		got, reason := appendBrazeJSON([]byte("P"), []byte(tc.raw), &nulls)
		if reason != tc.reason {
			t.Errorf("%.50s: reason %q, want %q", tc.raw, reason, tc.reason)
			continue
		}
		if reason != "" {
			continue
		}
		if string(got) != "P"+tc.want || nulls != tc.nulls {
			t.Errorf("%.50s: wrote %s with %d nulls dropped, want %s with %d", tc.raw, got[1:], nulls, tc.want, tc.nulls)
		}
		if !json.Valid(got[1:]) {
			t.Errorf("%.50s: output is not JSON: %s", tc.raw, got[1:])
		}
	}
}

// FuzzAppendBrazeJSON: whatever the input, the output is valid JSON holding no null, or the value
// is refused; and accepted input is what encoding/json reads, minus nulls.
func FuzzAppendBrazeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,null,{"b":null}],"c":"d"}`, `[1,2]`, `"x\u00e9"`, `{"a":{"b":{"c":1e5}}}`, `-0.5e-3`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		nulls := 0
		got, reason := appendBrazeJSON(nil, raw, &nulls)
		if reason != "" {
			return
		}
		var in, out any
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", raw, err)
		}
		if err := json.Unmarshal(got, &out); err != nil {
			t.Fatalf("wrote %q (from %q): %v", got, raw, err)
		}
		if hasNull(out) {
			t.Fatalf("wrote a null: %s", got)
		}
		if !sameWithoutNulls(in, out) {
			t.Fatalf("wrote %s from %s", got, raw)
		}
	})
}

func hasNull(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		for _, e := range x {
			if hasNull(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasNull(e) {
				return true
			}
		}
	}
	return false
}

// sameWithoutNulls compares a decoded input with the decoded output, nulls removed from the input.
func sameWithoutNulls(in, out any) bool {
	switch x := in.(type) {
	case []any:
		y, ok := out.([]any)
		if !ok {
			return false
		}
		var kept []any
		for _, e := range x {
			if e != nil {
				kept = append(kept, e)
			}
		}
		if len(kept) != len(y) {
			return false
		}
		for i := range kept {
			if !sameWithoutNulls(kept[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := out.(map[string]any)
		if !ok {
			return false
		}
		n := 0
		for k, e := range x {
			if e == nil {
				continue
			}
			n++
			if !sameWithoutNulls(e, y[k]) {
				return false
			}
		}
		return n == len(y)
	}
	return in == out
}

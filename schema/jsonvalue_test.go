package schema

import "testing"

// TestCheckBrazeJSON: JSON values Braze would silently not store are refused with a reason
// (braze-api.md §2.1: arrays are sets of scalars or arrays of objects; nested keys have no '.', '$'
// or spaces; a null inside a nested object voids the request's nested updates).
func TestCheckBrazeJSON(t *testing.T) {
	tests := []struct {
		raw  string
		want string
	}{
		{`42`, ""},
		{`"gold"`, ""},
		{`["a","b",1,true]`, ""},
		{`[{"x":1},{"y":"z"}]`, ""},
		{`{"plan":"gold","score":7,"tags":["a"]}`, ""},
		{`{}`, ""},
		{`[1,{"x":1}]`, reasonMixedArray},
		{`[[1],[2]]`, reasonMixedArray},
		{`[1,null]`, reasonMixedArray},
		{`{"x":null}`, reasonNestedNull},
		{`[{"x":null}]`, reasonNestedNull},
		{`{"a.b":1}`, reasonNestedKey},
		{`{"$a":1}`, reasonNestedKey},
		{`{"a b":1}`, reasonNestedKey},
		{`{"":1}`, reasonNestedKey},
		{`{"a":{"b":{"c.d":1}}}`, reasonNestedKey},
		{`"` + string(make([]byte, 0)) + repeatA(256) + `"`, reasonTooLong},
		{`{"a":"` + repeatA(256) + `"}`, reasonTooLong},
		{`{"a":1`, reasonInvalidJSON},
	}
	for _, tc := range tests {
		if got := checkBrazeJSON([]byte(tc.raw)); got != tc.want {
			t.Errorf("checkBrazeJSON(%.40s) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func repeatA(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

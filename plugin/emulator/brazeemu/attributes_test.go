package brazeemu

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCustomAttributeOperations covers docs/braze-api.md §2.1-2.3: remove, add+remove,
// array caps, inc, null unsets, nested overwrite vs _merge_objects, 255-character
// strings, date coercion and names.
func TestCustomAttributeOperations(t *testing.T) {
	long := strings.Repeat("x", 256)
	d := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	cases := []struct {
		name     string
		opts     Options
		seed     map[string]any
		write    map[string]any
		want     map[string]any
		rejected int64
	}{
		{"§2.2 remove", nil2(), map[string]any{"arr": []any{"a", "b"}}, map[string]any{"arr": map[string]any{"remove": []any{"a", "zz"}}},
			map[string]any{"arr": []any{"b"}}, 0},
		{"§2.2 add and remove together (remove first)", nil2(), map[string]any{"arr": []any{"a", "b"}},
			map[string]any{"arr": map[string]any{"add": []any{"c"}, "remove": []any{"b"}}}, map[string]any{"arr": []any{"a", "c"}}, 0},
		{"§2.2 add past cap drops oldest", Options{ArrayCap: 3}, map[string]any{"arr": []any{"a", "b", "c"}},
			map[string]any{"arr": map[string]any{"add": []any{"d"}}}, map[string]any{"arr": []any{"b", "c", "d"}}, 0},
		{"§2.2 plain set past cap keeps the newest", Options{ArrayCap: 2}, nil,
			map[string]any{"arr": []any{"a", "b", "c"}}, map[string]any{"arr": []any{"b", "c"}}, 0},
		{"§2.2 add onto a scalar replaces it", nil2(), map[string]any{"arr": "s"},
			map[string]any{"arr": map[string]any{"add": []any{"a"}}}, map[string]any{"arr": []any{"a"}}, 0},
		{"§2.1 array strings are not dates", nil2(), nil, map[string]any{"arr": []any{"2024-01-01"}}, map[string]any{"arr": []any{"2024-01-01"}}, 0},
		{"§2.3 inc existing", nil2(), map[string]any{"n": int64(5)}, map[string]any{"n": map[string]any{"inc": 2}}, map[string]any{"n": int64(7)}, 0},
		{"§2.3 inc negative from missing", nil2(), nil, map[string]any{"n": map[string]any{"inc": -2}}, map[string]any{"n": int64(-2)}, 0},
		{"§2.3 inc on string rejected", nil2(), map[string]any{"n": "x"}, map[string]any{"n": map[string]any{"inc": 1}}, map[string]any{"n": "x"}, 1},
		{"§2.3 inc by float rejected", nil2(), map[string]any{"n": int64(1)}, map[string]any{"n": map[string]any{"inc": 1.5}}, map[string]any{"n": int64(1)}, 1},
		{"§2.3 null unsets", nil2(), map[string]any{"a": "x", "b": "y"}, map[string]any{"a": nil}, map[string]any{"b": "y"}, 0},
		{"§2.3 nested overwrites by default", nil2(), map[string]any{"o": map[string]any{"a": int64(1), "b": int64(2)}},
			map[string]any{"o": map[string]any{"a": 3}}, map[string]any{"o": map[string]any{"a": int64(3)}}, 0},
		{"§2.3 nested deep-merges with _merge_objects", nil2(),
			map[string]any{"o": map[string]any{"a": int64(1), "in": map[string]any{"x": "1", "y": "2"}}},
			map[string]any{"_merge_objects": true, "o": map[string]any{"in": map[string]any{"y": "3"}}},
			map[string]any{"o": map[string]any{"a": int64(1), "in": map[string]any{"x": "1", "y": "3"}}}, 0},
		{"§2.1 nested $time", nil2(), nil, map[string]any{"o": map[string]any{"born": map[string]any{"$time": "1980-01-01"}}},
			map[string]any{"o": map[string]any{"born": d("1980-01-01T00:00:00Z")}}, 0},
		{"§2.1 invalid nested value drops every nested update in the request", nil2(), map[string]any{"o": map[string]any{"k": "v"}},
			map[string]any{"o": map[string]any{"k": "new"}, "bad": map[string]any{"k": nil}, "plain": "kept"},
			map[string]any{"o": map[string]any{"k": "v"}, "plain": "kept"}, 2},
		{"§2.1 nested key with a dot is invalid", nil2(), nil, map[string]any{"o": map[string]any{"a.b": 1}}, map[string]any{}, 1},
		{"§2.1 string over 255 not updated", nil2(), map[string]any{"s": "old"}, map[string]any{"s": long, "t": "ok"},
			map[string]any{"s": "old", "t": "ok"}, 1},
		{"§2.1 255 characters kept (multibyte)", nil2(), nil, map[string]any{"s": strings.Repeat("é", 255)},
			map[string]any{"s": strings.Repeat("é", 255)}, 0},
		{"§2.1 array with over-long string not updated", nil2(), nil, map[string]any{"arr": []any{long}}, map[string]any{}, 1},
		{"§2.1 date strings become times", nil2(), nil,
			map[string]any{"a": "2021-12-01", "b": "12/1/2021", "c": "12-1-2021", "d": "2021-12-01T10:00:00Z", "e": "2021-12-01T10:00:00:000-05:00", "f": "2021-12-01 10:00:00"},
			map[string]any{"a": d("2021-12-01T00:00:00Z"), "b": d("2021-12-01T00:00:00Z"), "c": d("2021-12-01T00:00:00Z"),
				"d": d("2021-12-01T10:00:00Z"), "e": d("2021-12-01T15:00:00Z"), "f": d("2021-12-01T10:00:00Z")}, 0},
		{"§2.1 year above 3000 stays a string", nil2(), nil, map[string]any{"a": "3001-01-01", "b": "hello 2021"},
			map[string]any{"a": "3001-01-01", "b": "hello 2021"}, 0},
		{"§2.4 names are case-sensitive", nil2(), nil, map[string]any{"First_Name": "x"}, map[string]any{"First_Name": "x"}, 0},
		{"§2.4 $ name rejected", nil2(), nil, map[string]any{"$x": "y"}, map[string]any{}, 1},
		{"§2.1 array of objects set", nil2(), nil, map[string]any{"pets": []any{map[string]any{"id": 1}, map[string]any{"id": 2}}},
			map[string]any{"pets": []any{map[string]any{"id": int64(1)}, map[string]any{"id": int64(2)}}}, 0},
		{"§2.1 array of objects $add/$remove/$update", nil2(),
			map[string]any{"pets": []any{map[string]any{"id": int64(1), "n": "a"}, map[string]any{"id": int64(2), "n": "b"}}},
			map[string]any{"_merge_objects": true, "pets": map[string]any{
				"$add":    []any{map[string]any{"id": 3, "n": "c"}},
				"$remove": []any{map[string]any{"$identifier_key": "id", "$identifier_value": 1}},
				"$update": []any{map[string]any{"$identifier_key": "id", "$identifier_value": 2, "$new_object": map[string]any{"n": "B"}}},
			}},
			map[string]any{"pets": []any{map[string]any{"id": int64(2), "n": "B"}, map[string]any{"id": int64(3), "n": "c"}}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t, tc.opts)
			emu.Seed(Profile{ExternalID: "u1", Custom: tc.seed})
			obj := map[string]any{"external_id": "u1"}
			for k, v := range tc.write {
				obj[k] = v
			}
			if res := track(t, emu, map[string]any{"attributes": []any{obj}}); res.Status != http.StatusCreated {
				t.Fatalf("status %d %+v", res.Status, res.Raw)
			}
			got := mustProfile(t, emu, "u1").Custom
			if got == nil {
				got = map[string]any{}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("custom = %#v\nwant     %#v", got, tc.want)
			}
			if r := emu.Stats().ValuesRejected; r != tc.rejected {
				t.Fatalf("values rejected = %d, want %d", r, tc.rejected)
			}
		})
	}
}

func nil2() Options { return Options{} }

// TestArrayCapDefault covers §2.2: the default cap is 500 and adding past it drops the
// oldest values.
func TestArrayCapDefault(t *testing.T) {
	emu := startEmu(t, Options{})
	vals := make([]any, 500)
	for i := range vals {
		vals[i] = fmt.Sprintf("v%d", i)
	}
	emu.Seed(Profile{ExternalID: "u1", Custom: map[string]any{"arr": vals}})
	track(t, emu, map[string]any{"attributes": []any{map[string]any{"external_id": "u1", "arr": map[string]any{"add": []any{"new"}}}}})
	arr := mustProfile(t, emu, "u1").Custom["arr"].([]any)
	if len(arr) != 500 || arr[0] != "v1" || arr[499] != "new" {
		t.Fatalf("len %d first %v last %v", len(arr), arr[0], arr[len(arr)-1])
	}
}

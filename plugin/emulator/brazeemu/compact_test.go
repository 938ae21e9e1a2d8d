package brazeemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStrIndexMatchesMap drives the store's hash index and a map with the same random
// puts and deletes (enough to grow the table and wrap probe sequences) and compares
// every lookup.
func TestStrIndexMatchesMap(t *testing.T) {
	var keys []string
	keyOf := func(i uint32) string { return keys[i] }
	for i := 0; i < 3000; i++ {
		keys = append(keys, fmt.Sprintf("k-%d", i%1500)) // repeated keys: puts overwrite
	}
	x := newStrIndex(maphash.MakeSeed())
	want := map[string]uint32{}
	r := rand.New(rand.NewPCG(1, 2))
	for step := 0; step < 20000; step++ {
		i := uint32(r.IntN(len(keys)))
		k := keys[i]
		if r.IntN(3) == 0 {
			x.delete(k, keyOf)
			delete(want, k)
		} else {
			x.put(k, i, keyOf)
			want[k] = i
		}
		if step%97 == 0 {
			if x.len() != len(want) {
				t.Fatalf("step %d: len %d, want %d", step, x.len(), len(want))
			}
			for _, k := range keys[:1500] {
				got, ok := x.get(k, keyOf)
				w, wok := want[k]
				if ok != wok || got != w {
					t.Fatalf("step %d: get(%q) = %d, %v; want %d, %v", step, k, got, ok, w, wok)
				}
			}
		}
	}
	n := 0
	x.each(func(uint32) { n++ })
	if n != len(want) {
		t.Fatalf("each visited %d, want %d", n, len(want))
	}
}

// TestCompactValuesRoundTrip: values kept in compact form come back exactly (type and
// value), including the ones a naive encoding would change.
func TestCompactValuesRoundTrip(t *testing.T) {
	local := time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))
	custom := map[string]any{
		"s": "x", "long": string(make([]byte, 200)), "empty": "", "i": int64(-7), "big": int64(math.MaxInt64),
		"f": 1.5, "negzero": math.Copysign(0, -1), "b": false, "t": true, "nil": nil,
		"when": time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), "late": time.Date(2999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		"zoned": local, "arr": []any{"a", int64(1), 2.5, true, nil}, "none": []any{},
		"mixed": []any{map[string]any{"k": "v"}, "x"}, "obj": map[string]any{"k": []any{"v"}}, "u": uint64(3),
	}
	emu := New(Options{APIKeys: []string{testKey}})
	emu.Seed(Profile{ExternalID: "u1", Custom: custom})
	got := mustProfile(t, emu, "u1").Custom
	if !reflect.DeepEqual(got, custom) {
		t.Fatalf("custom = %#v\nwant %#v", got, custom)
	}
	if got["zoned"].(time.Time).Location().String() != "X" {
		t.Fatalf("zoned time lost its zone: %v", got["zoned"])
	}
	if nz := got["negzero"].(float64); !math.Signbit(nz) {
		t.Fatalf("-0 became %v", nz)
	}
	emu.Seed(Profile{ExternalID: "u2"})
	if c := mustProfile(t, emu, "u2").Custom; c != nil {
		t.Fatalf("profile without attributes has Custom %#v, want nil", c)
	}
}

// TestBrazeIndexMatchesMap does the same for the braze_id index, with generated-form
// IDs (in and out of order, past the end, too large for the slice) and other IDs.
func TestBrazeIndexMatchesMap(t *testing.T) {
	var keys []string
	for n := 1; n <= 300; n++ {
		keys = append(keys, fmt.Sprintf("e0%022x", n), fmt.Sprintf("e0%022x", n+1000), fmt.Sprintf("custom-%d", n))
	}
	keys = append(keys, fmt.Sprintf("e0%022x", uint64(1)<<40), "e0000000000000000000000000", "E0000000000000000000001", "e00000000000000000000000")
	keyOf := func(i uint32) string { return keys[i] }
	x := brazeIndex{hash: newStrIndex(maphash.MakeSeed())}
	want := map[string]uint32{}
	r := rand.New(rand.NewPCG(3, 4))
	for step := 0; step < 20000; step++ {
		i := uint32(r.IntN(len(keys)))
		if step < 300 {
			i = uint32(step * 3) // generated IDs first, in order, as the store makes them
		}
		k := keys[i]
		if r.IntN(4) == 0 {
			x.delete(k, keyOf)
			delete(want, k)
		} else {
			x.put(k, i, keyOf)
			want[k] = i
		}
		if step%101 == 0 {
			if x.len() != len(want) {
				t.Fatalf("step %d: len %d, want %d", step, x.len(), len(want))
			}
			for _, k := range keys {
				got, ok := x.get(k, keyOf)
				w, wok := want[k]
				if ok != wok || got != w {
					t.Fatalf("step %d: get(%q) = %d, %v; want %d, %v", step, k, got, ok, w, wok)
				}
			}
		}
	}
}

// TestSmallIntMatchesParseInt: the fast integer path agrees with strconv.ParseInt.
func TestSmallIntMatchesParseInt(t *testing.T) {
	for _, s := range []string{"0", "-0", "+0", "7", "-7", "+7", "007", "999999999999999999", "-999999999999999999",
		"1000000000000000000", "9223372036854775807", "", "-", "+", "1.5", "1e3", "12a", " 1", "--1", "+-1"} {
		got, ok := smallInt(s)
		want, err := strconv.ParseInt(s, 10, 64)
		if ok && (err != nil || got != want) {
			t.Errorf("smallInt(%q) = %d, ParseInt gives %d, %v", s, got, want, err)
		}
		if !ok && err == nil && len(strings.TrimLeft(s, "+-")) <= 18 {
			t.Errorf("smallInt(%q) refused what ParseInt reads as %d", s, want)
		}
	}
}

// TestArrayAddRemoveMatchesReference: add/remove writes (the compact fast path, and the
// general path for stored values it leaves alone) give what arrayModify and capFront
// give on plain values, write after write, whatever was stored before.
func TestArrayAddRemoveMatchesReference(t *testing.T) {
	const arrayCap = 5
	emu := New(Options{APIKeys: []string{testKey}, RateLimit: -1, ArrayCap: arrayCap})
	pool := []any{"a", "b", "c", "d", "e", "f", "g", int64(1), int64(2), 1.5, true, false}
	starts := map[string]any{
		"none": nil, "str": "x", "num": int64(3), "arr": []any{"a", int64(1), true},
		"full": []any{"a", "b", "c", "d", "e"}, "objs": []any{map[string]any{"k": "v"}, "a"}, "obj": map[string]any{"k": "v"},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for name, start := range starts {
		emu.Reset()
		var want any
		if start != nil {
			emu.Seed(Profile{ExternalID: "u", Custom: map[string]any{"t": start}})
			want = start
		}
		for step := 0; step < 60; step++ {
			pick := func() []any {
				out := make([]any, r.IntN(4))
				for i := range out {
					out[i] = pool[r.IntN(len(pool))]
				}
				return out
			}
			add, remove := pick(), pick()
			ops := map[string]any{"add": add}
			if len(remove) > 0 || r.IntN(2) == 0 {
				ops["remove"] = remove
			}
			body, _ := json.Marshal(map[string]any{"attributes": []any{map[string]any{"external_id": "u", "t": ops}}})
			req := httptest.NewRequest(http.MethodPost, pathTrack, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testKey)
			w := httptest.NewRecorder()
			emu.ServeHTTP(w, req)
			if w.Code != http.StatusCreated {
				t.Fatalf("%s step %d: status %d: %s", name, step, w.Code, w.Body)
			}
			rm, _ := ops["remove"].([]any)
			want = capFront(arrayModify(want, add, rm), arrayCap)
			got := mustProfile(t, emu, "u").Custom["t"]
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s step %d: add %v remove %v: stored %#v, want %#v", name, step, add, rm, got, want)
			}
		}
	}
}

// TestDecodedValuesNotKeptAfterRecycle: objects and arrays of a request are reused by
// later requests; what a request stored must not change when they are.
func TestDecodedValuesNotKeptAfterRecycle(t *testing.T) {
	emu := New(Options{APIKeys: []string{testKey}, RateLimit: -1})
	send := func(obj map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"attributes": []any{obj}})
		req := httptest.NewRequest(http.MethodPost, pathTrack, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		w := httptest.NewRecorder()
		emu.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	send(map[string]any{"external_id": "keep", "nested": map[string]any{"a": map[string]any{"b": "c"}, "n": 1},
		"objs": []any{map[string]any{"id": "x"}}, "tags": map[string]any{"add": []any{"t1", "t2"}},
		"first_name": "Ann", "current_location": map[string]any{"latitude": 1, "longitude": 2}, "plain": []any{"p", "q"}})
	want := mustProfile(t, emu, "keep")
	for i := 0; i < 50; i++ {
		send(map[string]any{"external_id": fmt.Sprint("other-", i), "nested": map[string]any{"a": map[string]any{"b": i}, "z": "y"},
			"objs": []any{map[string]any{"id": i}, map[string]any{"q": "r"}}, "tags": map[string]any{"add": []any{"zz"}},
			"first_name": "Bob", "current_location": map[string]any{"latitude": 9, "longitude": 9}, "plain": []any{"r", "s", "t"}})
	}
	if got := mustProfile(t, emu, "keep"); !reflect.DeepEqual(got, want) {
		t.Fatalf("stored profile changed:\n got %#v\nwant %#v", got, want)
	}
}

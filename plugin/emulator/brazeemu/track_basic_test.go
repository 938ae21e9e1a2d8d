package brazeemu

import (
	"net/http"
	"reflect"
	"testing"
)

// TestTrackAuth covers docs/braze-api.md §1.1 and §3.3: Bearer auth, 401 for a missing or
// unknown key, 403 Access Denied for a key without users.track.
func TestTrackAuth(t *testing.T) {
	emu := startEmu(t, Options{KeyPermissions: map[string][]string{"ro": {PermUsersExportIDs}}})
	body := attrs(1)
	cases := []struct {
		name string
		key  string
		want int
		msg  string
	}{
		{"missing key", "", http.StatusUnauthorized, msgUnauthorized},
		{"unknown key", "nope", http.StatusUnauthorized, msgUnauthorized},
		{"key without users.track", "ro", http.StatusForbidden, msgAccessDenied},
		{"valid key", testKey, http.StatusCreated, "success"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := post(t, emu, tc.key, pathTrack, body)
			if res.Status != tc.want || res.Body.Message != tc.msg {
				t.Fatalf("got %d %q, want %d %q", res.Status, res.Body.Message, tc.want, tc.msg)
			}
		})
	}
	if _, ok := emu.Profile("u0"); !ok {
		t.Fatal("the authorised request was not applied")
	}
	if got := len(emu.Profiles()); got != 1 {
		t.Fatalf("rejected requests created profiles: %d profiles", got)
	}
}

// TestTrackObjectCap covers §1.5: 75 objects in total by default, 50 for MAU
// contracts, 75 per array in legacy mode; over the cap is 400 Max Input Length Exceeded.
func TestTrackObjectCap(t *testing.T) {
	mixed := func(a, e, p int) map[string]any {
		return map[string]any{
			"attributes": objects("a", a, nil),
			"events":     objects("e", e, map[string]any{"name": "ev", "time": "2024-01-01T00:00:00Z"}),
			"purchases":  objects("p", p, map[string]any{"product_id": "x", "currency": "USD", "price": 1, "time": "2024-01-01T00:00:00Z"}),
		}
	}
	cases := []struct {
		name    string
		opts    Options
		a, e, p int
		want    int
	}{
		{"75 total ok", Options{}, 25, 25, 25, http.StatusCreated},
		{"76 total rejected", Options{}, 26, 25, 25, http.StatusBadRequest},
		{"76 attributes rejected", Options{}, 76, 0, 0, http.StatusBadRequest},
		{"MAU 50 ok", Options{ObjectCap: 50}, 50, 0, 0, http.StatusCreated},
		{"MAU 51 rejected", Options{ObjectCap: 50}, 20, 20, 11, http.StatusBadRequest},
		{"legacy 225 ok", Options{LegacyPerArrayCap: true}, 75, 75, 75, http.StatusCreated},
		{"legacy 76 in one array rejected", Options{LegacyPerArrayCap: true}, 10, 76, 0, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t, tc.opts)
			res := track(t, emu, mixed(tc.a, tc.e, tc.p))
			if res.Status != tc.want {
				t.Fatalf("status %d (%q), want %d", res.Status, res.Body.Message, tc.want)
			}
			if tc.want == http.StatusBadRequest {
				if res.Body.Message != msgMaxInput {
					t.Fatalf("message %q, want %q", res.Body.Message, msgMaxInput)
				}
				if n := len(emu.Profiles()); n != 0 {
					t.Fatalf("over-cap request applied: %d profiles", n)
				}
			} else if n := len(emu.Profiles()); n != tc.a+tc.e+tc.p {
				t.Fatalf("%d profiles, want %d", n, tc.a+tc.e+tc.p)
			}
		})
	}
}

// TestTrackExternalIDUpsertAndUpdateOnly covers §1.3-1.4: external_id creates the
// profile unless _update_existing_only is true, and updates existing profiles.
func TestTrackExternalIDUpsertAndUpdateOnly(t *testing.T) {
	cases := []struct {
		name       string
		seed       bool
		updateOnly any // nil = omitted
		wantStored bool
	}{
		{"omitted creates", false, nil, true},
		{"false creates", false, false, true},
		{"true skips unknown user", false, true, false},
		{"true updates existing", true, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t, Options{})
			if tc.seed {
				emu.Seed(Profile{ExternalID: "u1", Custom: map[string]any{"old": "x"}})
			}
			obj := map[string]any{"external_id": "u1", "first_name": "Jon", "plan": "gold"}
			if tc.updateOnly != nil {
				obj["_update_existing_only"] = tc.updateOnly
			}
			res := track(t, emu, map[string]any{"attributes": []any{obj}})
			if res.Status != http.StatusCreated || res.Body.AttributesProcessed == nil || *res.Body.AttributesProcessed != 1 {
				t.Fatalf("got %d %+v", res.Status, res.Raw)
			}
			p, ok := emu.Profile("u1")
			if ok != tc.wantStored {
				t.Fatalf("stored=%v, want %v", ok, tc.wantStored)
			}
			if !ok {
				if s := emu.Stats(); s.ObjectsSkipped != 1 || s.DataPoints != 0 {
					t.Fatalf("skip not counted or billed: %+v", s)
				}
				return
			}
			if p.Standard["first_name"] != "Jon" || p.Custom["plan"] != "gold" {
				t.Fatalf("profile %+v", p)
			}
			if tc.seed && p.Custom["old"] != "x" {
				t.Fatalf("existing attribute lost: %+v", p.Custom)
			}
		})
	}
}

// TestTrackPlainSetAndArrayAdd covers §2.1-2.2: plain sets overwrite, arrays are sets
// (deduplicated), add appends and moves an existing value to the end.
func TestTrackPlainSetAndArrayAdd(t *testing.T) {
	cases := []struct {
		name  string
		seed  map[string]any
		write map[string]any
		want  map[string]any
	}{
		{"string set", nil, map[string]any{"s": "a"}, map[string]any{"s": "a"}},
		{"overwrite", map[string]any{"s": "old"}, map[string]any{"s": "new"}, map[string]any{"s": "new"}},
		{"int and float and bool", nil, map[string]any{"i": 3, "f": 1.5, "b": true},
			map[string]any{"i": int64(3), "f": 1.5, "b": true}},
		{"array replaced and deduped", map[string]any{"arr": []any{"x"}},
			map[string]any{"arr": []any{"hotdog", "hotdog", "hotdog", "pizza"}},
			map[string]any{"arr": []any{"hotdog", "pizza"}}},
		{"add appends", map[string]any{"arr": []any{"a", "b"}},
			map[string]any{"arr": map[string]any{"add": []any{"c"}}},
			map[string]any{"arr": []any{"a", "b", "c"}}},
		{"add moves existing to end", map[string]any{"arr": []any{"a", "b", "c"}},
			map[string]any{"arr": map[string]any{"add": []any{"a"}}},
			map[string]any{"arr": []any{"b", "c", "a"}}},
		{"add to missing creates", nil,
			map[string]any{"arr": map[string]any{"add": []any{"a", "a"}}},
			map[string]any{"arr": []any{"a"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t, Options{})
			if tc.seed != nil {
				emu.Seed(Profile{ExternalID: "u1", Custom: tc.seed})
			}
			obj := map[string]any{"external_id": "u1"}
			for k, v := range tc.write {
				obj[k] = v
			}
			if res := track(t, emu, map[string]any{"attributes": []any{obj}}); res.Status != http.StatusCreated {
				t.Fatalf("status %d %+v", res.Status, res.Raw)
			}
			p := mustProfile(t, emu, "u1")
			if !reflect.DeepEqual(p.Custom, tc.want) {
				t.Fatalf("custom = %#v, want %#v", p.Custom, tc.want)
			}
		})
	}
}

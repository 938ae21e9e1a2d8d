package brazeemu

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// TestExportIDs covers docs/braze-api.md §5: up to 50 external_ids/user_aliases,
// fields_to_export, invalid_user_ids and the response shape.
func TestExportIDs(t *testing.T) {
	emu := startEmu(t, Options{KeyPermissions: map[string][]string{"wo": {PermUsersTrack}}})
	emu.Seed(
		Profile{ExternalID: "u1", Email: "a@example.com", Standard: map[string]any{"first_name": "Jon"},
			Custom: map[string]any{"n": 1, "when": "2024-01-02", "arr": []any{"x"}},
			Events: []Event{{Name: "e", Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}, {Name: "e", Time: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)}}},
		Profile{ExternalID: "u2", Aliases: []Alias{{Name: "n", Label: "l"}}},
	)
	ids := make([]string, 51)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	cases := []struct {
		name    string
		key     string
		body    map[string]any
		status  int
		users   []map[string]any
		invalid []any
	}{
		{"fields_to_export", testKey, map[string]any{"external_ids": []any{"u1", "nope"}, "fields_to_export": []any{"external_id", "first_name", "custom_attributes", "custom_events"}},
			200, []map[string]any{{"external_id": "u1", "first_name": "Jon",
				"custom_attributes": map[string]any{"n": float64(1), "when": "2024-01-02T00:00:00.000Z", "arr": []any{"x"}},
				"custom_events":     []any{map[string]any{"name": "e", "first": "2024-01-01T00:00:00.000Z", "last": "2024-02-01T00:00:00.000Z", "count": float64(2)}}}},
			[]any{"nope"}},
		{"alias lookup", testKey, map[string]any{"user_aliases": []any{map[string]any{"alias_name": "n", "alias_label": "l"}}, "fields_to_export": []any{"external_id", "user_aliases"}},
			200, []map[string]any{{"external_id": "u2", "user_aliases": []any{map[string]any{"alias_name": "n", "alias_label": "l"}}}}, nil},
		{"email lookup", testKey, map[string]any{"email_address": "A@example.com", "fields_to_export": []any{"external_id"}},
			200, []map[string]any{{"external_id": "u1"}}, nil},
		{"51 ids rejected", testKey, map[string]any{"external_ids": ids}, 400, nil, nil},
		{"unknown field rejected", testKey, map[string]any{"external_ids": []any{"u1"}, "fields_to_export": []any{"bogus"}}, 400, nil, nil},
		{"email and phone together rejected", testKey, map[string]any{"email_address": "a@example.com", "phone": "+15555550100"}, 400, nil, nil},
		{"key without users.export.ids", "wo", map[string]any{"external_ids": []any{"u1"}}, 403, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := post(t, emu, tc.key, pathExportIDs, tc.body)
			if res.Status != tc.status {
				t.Fatalf("status %d %+v", res.Status, res.Raw)
			}
			if tc.status != http.StatusOK {
				return
			}
			var users []map[string]any
			for _, u := range res.Raw["users"].([]any) {
				users = append(users, u.(map[string]any))
			}
			if res.Raw["message"] != "success" || !reflect.DeepEqual(users, tc.users) {
				t.Fatalf("users %#v\nwant  %#v", users, tc.users)
			}
			inv, _ := res.Raw["invalid_user_ids"].([]any)
			if !reflect.DeepEqual(inv, tc.invalid) {
				t.Fatalf("invalid_user_ids %#v, want %#v", inv, tc.invalid)
			}
		})
	}
}

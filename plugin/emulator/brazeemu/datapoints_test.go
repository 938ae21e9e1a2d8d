package brazeemu

import "testing"

// TestDataPoints covers docs/braze-api.md §7: every attribute write costs a data point,
// changed or not; subscription states, country, language and push tokens are free;
// a whole-array set costs 1, add costs 1 per value; each nested key counts; each event
// and purchase and each of their properties count; identifiers and skipped objects are
// free.
func TestDataPoints(t *testing.T) {
	ts := "2024-01-01T00:00:00Z"
	cases := []struct {
		name string
		body map[string]any
		want int64
	}{
		{"two custom attributes", map[string]any{"attributes": []any{map[string]any{"external_id": "u1", "a": 1, "b": "x"}}}, 2},
		{"identifier only", map[string]any{"attributes": []any{map[string]any{"external_id": "u1"}}}, 0},
		{"standard billable", map[string]any{"attributes": []any{map[string]any{"external_id": "u1", "first_name": "J", "email": "a@b.co"}}}, 2},
		{"non-billable fields", map[string]any{"attributes": []any{map[string]any{"external_id": "u1",
			"country": "US", "language": "en", "email_subscribe": "subscribed", "push_subscribe": "opted_in"}}}, 0},
		{"whole array", map[string]any{"attributes": []any{map[string]any{"external_id": "u1", "arr": []any{"a", "b", "c"}}}}, 1},
		{"array add per value", map[string]any{"attributes": []any{map[string]any{"external_id": "u1", "arr": map[string]any{"add": []any{"a", "b"}}}}}, 2},
		{"nested keys", map[string]any{"attributes": []any{map[string]any{"external_id": "u1", "o": map[string]any{"a": 1, "b": map[string]any{"c": 2}}}}}, 3},
		{"null unset", map[string]any{"attributes": []any{map[string]any{"external_id": "u1", "a": nil}}}, 1},
		{"event with properties", map[string]any{"events": []any{map[string]any{"external_id": "u1", "name": "n", "time": ts, "properties": map[string]any{"a": 1, "b": 2}}}}, 3},
		{"purchase", map[string]any{"purchases": []any{map[string]any{"external_id": "u1", "product_id": "p", "currency": "USD", "price": 1, "time": ts}}}, 1},
		{"skipped update-only", map[string]any{"attributes": []any{map[string]any{"external_id": "ghost", "_update_existing_only": true, "a": 1}}}, 0},
		{"rejected long string", map[string]any{"attributes": []any{map[string]any{"external_id": "u1", "a": string(make([]byte, 300))}}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t, Options{})
			track(t, emu, tc.body)
			if got := emu.Stats().DataPoints; got != tc.want {
				t.Fatalf("data points %d, want %d", got, tc.want)
			}
		})
	}
}

// TestDataPointsCountUnchangedWrites covers §7 "Unchanged values: still counted":
// sending the same value twice costs twice.
func TestDataPointsCountUnchangedWrites(t *testing.T) {
	emu := startEmu(t, Options{})
	body := map[string]any{"attributes": []any{map[string]any{"external_id": "u1", "a": "same", "b": "same"}}}
	track(t, emu, body)
	track(t, emu, body)
	if got := emu.Stats().DataPoints; got != 4 {
		t.Fatalf("data points %d, want 4", got)
	}
}

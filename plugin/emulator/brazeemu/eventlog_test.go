package brazeemu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestEventLogReadBack: tests read every recorded event and purchase back with the profile it
// landed on, through the Go API and the control surface, field by field.
func TestEventLogReadBack(t *testing.T) {
	emu := startEmu(t, Options{})
	res := track(t, emu, map[string]any{
		"events": []any{
			map[string]any{"external_id": "u2", "name": "b", "time": "2024-01-02T00:00:00Z", "app_id": "app", "properties": map[string]any{"n": 1}},
			map[string]any{"user_alias": map[string]any{"alias_name": "a1", "alias_label": "crm"}, "_update_existing_only": false,
				"name": "c", "time": "2024-01-03T00:00:00Z"},
			map[string]any{"external_id": "u1", "name": "a", "time": "2024-01-01T00:00:00Z"},
			map[string]any{"external_id": "u2", "name": "b", "time": "2024-01-02T00:00:00Z"},
		},
		"purchases": []any{map[string]any{"external_id": "u1", "product_id": "sku", "currency": "EUR", "price": 12.5,
			"quantity": 3, "time": "2024-01-04T00:00:00Z", "properties": map[string]any{"coupon": "X"}}},
	})
	if res.Status != http.StatusCreated {
		t.Fatalf("status %d %v", res.Status, res.Raw)
	}
	evs := emu.Events()
	if len(evs) != 4 {
		t.Fatalf("%d events: %+v", len(evs), evs)
	}
	// Profiles order: the alias-only profile (no external_id) first, then u1, u2; arrival order within.
	got := []string{evs[0].Owner.Aliases[0].Name + "/" + evs[0].Name, evs[1].Owner.ExternalID + "/" + evs[1].Name,
		evs[2].Owner.ExternalID + "/" + evs[2].Name, evs[3].Owner.ExternalID + "/" + evs[3].Name}
	if want := []string{"a1/c", "u1/a", "u2/b", "u2/b"}; !equalStrings(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if e := evs[2]; e.AppID != "app" || e.Properties["n"] != int64(1) || !e.Time.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("event fields %+v", e)
	}
	ps := emu.Purchases()
	if len(ps) != 1 || ps[0].Owner.ExternalID != "u1" || ps[0].ProductID != "sku" || ps[0].Quantity != 3 ||
		ps[0].Price != 12.5 || ps[0].Properties["coupon"] != "X" {
		t.Fatalf("purchases %+v", ps)
	}
	evs[2].Properties["n"] = "changed" // a copy: the store is unchanged
	if emu.Events()[2].Properties["n"] != int64(1) {
		t.Error("Events shares memory with the store")
	}

	for path, want := range map[string]int{"events": 4, "purchases": 1} {
		resp, err := http.Get(emu.URL() + "/_emulator/" + path)
		if err != nil {
			t.Fatal(err)
		}
		var list []map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(list) != want || list[len(list)-1]["user"].(map[string]any)["braze_id"] == "" {
			t.Errorf("GET %s: %v", path, list)
		}
	}
	emu.Reset()
	if len(emu.Events()) != 0 || len(emu.Purchases()) != 0 {
		t.Error("Reset kept events")
	}
}

// TestAppliedFaults: status_after and hang_after apply the request, then answer a 5xx or nothing.
func TestAppliedFaults(t *testing.T) {
	body := map[string]any{"events": []any{map[string]any{"external_id": "u1", "name": "n", "time": "2024-01-01T00:00:00Z"}}}
	t.Run("status_after", func(t *testing.T) {
		emu := startEmu(t, Options{})
		emu.SetFaults(Fault{Kind: FaultStatusAfter, Status: 503, Count: 1})
		if res := track(t, emu, body); res.Status != http.StatusServiceUnavailable {
			t.Fatalf("status %d", res.Status)
		}
		if res := track(t, emu, body); res.Status != http.StatusCreated {
			t.Fatalf("second status %d", res.Status)
		}
		if n := len(emu.Events()); n != 2 {
			t.Errorf("%d events recorded, want 2 (the 503 was applied)", n)
		}
	})
	t.Run("hang_after: the client gives up", func(t *testing.T) {
		emu := startEmu(t, Options{})
		emu.SetFaults(Fault{Kind: FaultHangAfter})
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, emu.URL()+pathTrack, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+testKey)
		client := &http.Client{Timeout: 100 * time.Millisecond}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("got an answer %d", resp.StatusCode)
		}
		if n := len(emu.Events()); n != 1 {
			t.Errorf("%d events recorded, want 1", n)
		}
		if f := emu.Faults()[0]; f.Fired != 1 {
			t.Errorf("fired %d", f.Fired)
		}
	})
	t.Run("hang_after: a late answer", func(t *testing.T) {
		emu := startEmu(t, Options{})
		emu.SetFaults(Fault{Kind: FaultHangAfter, Delay: 30 * time.Millisecond})
		if res := track(t, emu, body); res.Status != http.StatusCreated {
			t.Fatalf("status %d", res.Status)
		}
		if n := len(emu.Events()); n != 1 {
			t.Errorf("%d events recorded, want 1", n)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		var f Fault
		if err := json.Unmarshal([]byte(`{"kind":"hang_after","delay":"2s"}`), &f); err != nil || f.Delay != 2*time.Second {
			t.Fatalf("%+v %v", f, err)
		}
		if err := json.Unmarshal([]byte(`{"kind":"status_after","status":500}`), &f); err != nil {
			t.Fatal(err)
		}
	})
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

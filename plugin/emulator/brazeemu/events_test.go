package brazeemu

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEventsAndPurchases covers docs/braze-api.md §1.2: events need name and time, a future
// time becomes now, properties are validated, duplicates are recorded twice;
// purchases need product_id, currency, price and time.
func TestEventsAndPurchases(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	ev := func(kv ...any) map[string]any {
		m := map[string]any{"external_id": "u1", "name": "Signed Up", "time": "2025-01-01T00:00:00Z"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
				continue
			}
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	pu := func(kv ...any) map[string]any {
		m := map[string]any{"external_id": "u1", "product_id": "sku", "currency": "usd", "price": 9.5, "time": "2025-01-01T00:00:00Z"}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
				continue
			}
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name    string
		array   string
		obj     map[string]any
		wantErr string
		check   func(t *testing.T, p Profile)
	}{
		{"event recorded", "events", ev("properties", map[string]any{"plan": "gold", "n": 2}), "", func(t *testing.T, p Profile) {
			e := p.Events[0]
			if e.Name != "Signed Up" || !e.Time.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) || e.Properties["n"] != int64(2) {
				t.Fatalf("event %+v", e)
			}
		}},
		{"event future time becomes now", "events", ev("time", "2030-01-01T00:00:00Z"), "", func(t *testing.T, p Profile) {
			if !p.Events[0].Time.Equal(clock.t) {
				t.Fatalf("time %v", p.Events[0].Time)
			}
		}},
		{"event Braze colon-millis time", "events", ev("time", "2025-01-01T10:00:00:123-05:00"), "", func(t *testing.T, p Profile) {
			if !p.Events[0].Time.Equal(time.Date(2025, 1, 1, 15, 0, 0, 123e6, time.UTC)) {
				t.Fatalf("time %v", p.Events[0].Time)
			}
		}},
		{"event missing name", "events", ev("name", nil), errEventName, nil},
		{"event missing time", "events", ev("time", nil), errTimeRequired, nil},
		{"event bad time", "events", ev("time", "yesterday"), errTimeInvalid, nil},
		{"event reserved property", "events", ev("properties", map[string]any{"time": 1}), errProperties, nil},
		{"event $ property", "events", ev("properties", map[string]any{"$x": 1}), errProperties, nil},
		{"event long property value", "events", ev("properties", map[string]any{"x": strings.Repeat("a", 256)}), errProperties, nil},
		{"purchase recorded", "purchases", pu("quantity", 2), "", func(t *testing.T, p Profile) {
			x := p.Purchases[0]
			if x.ProductID != "sku" || x.Currency != "USD" || x.Price != 9.5 || x.Quantity != 2 {
				t.Fatalf("purchase %+v", x)
			}
		}},
		{"purchase default quantity", "purchases", pu(), "", func(t *testing.T, p Profile) {
			if p.Purchases[0].Quantity != 1 {
				t.Fatalf("quantity %d", p.Purchases[0].Quantity)
			}
		}},
		{"purchase missing product", "purchases", pu("product_id", nil), errProductID, nil},
		{"purchase bad currency", "purchases", pu("currency", "dollars"), errCurrency, nil},
		{"purchase price as string", "purchases", pu("price", "9.5"), errPrice, nil},
		{"purchase quantity 0", "purchases", pu("quantity", 0), errQuantity, nil},
		{"purchase missing time", "purchases", pu("time", nil), errTimeRequired, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t, Options{Now: clock.now})
			res := track(t, emu, map[string]any{tc.array: []any{tc.obj}})
			if tc.wantErr != "" {
				if res.Status != http.StatusBadRequest || len(res.Body.Errors) != 1 ||
					res.Body.Errors[0].Type != tc.wantErr || res.Body.Errors[0].InputArray != tc.array {
					t.Fatalf("got %d %+v, want %q", res.Status, res.Body, tc.wantErr)
				}
				return
			}
			if res.Status != http.StatusCreated {
				t.Fatalf("status %d %+v", res.Status, res.Raw)
			}
			tc.check(t, mustProfile(t, emu, "u1"))
		})
	}
}

// TestEventsNotDeduplicated covers §1.2/§3.4: resending an event records it twice.
func TestEventsNotDeduplicated(t *testing.T) {
	emu := startEmu(t, Options{})
	body := map[string]any{"events": []any{map[string]any{"external_id": "u1", "name": "n", "time": "2024-01-01T00:00:00Z"}}}
	track(t, emu, body)
	track(t, emu, body)
	if n := len(mustProfile(t, emu, "u1").Events); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
	if s := emu.Stats(); s.Events != 2 {
		t.Fatalf("stats events %d", s.Events)
	}
}

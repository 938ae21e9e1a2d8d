package brazeemu

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestTrackResponseShapes covers docs/braze-api.md §3.1-3.3: *_processed only for arrays
// sent, non-fatal errors[{type,input_array,index}], the fatal all-invalid message, bad
// JSON, and an empty request.
func TestTrackResponseShapes(t *testing.T) {
	ev := map[string]any{"external_id": "u1", "name": "ev", "time": "2024-01-01T00:00:00Z"}
	badEmail := map[string]any{"external_id": "u2", "email": "not-an-email"}
	cases := []struct {
		name       string
		body       any
		wantStatus int
		wantMsg    string
		wantKeys   []string // *_processed keys expected present
		wantCounts map[string]float64
		wantErrors []ObjectError
	}{
		{"§3.1 attributes only", attrs(2), 201, "success", []string{"attributes_processed"},
			map[string]float64{"attributes_processed": 2}, nil},
		{"§3.1 events only", map[string]any{"events": []any{ev}}, 201, "success", []string{"events_processed"},
			map[string]float64{"events_processed": 1}, nil},
		{"§3.1 empty attributes array still reported", map[string]any{"attributes": []any{}, "events": []any{ev}}, 201, "success",
			[]string{"attributes_processed", "events_processed"}, map[string]float64{"attributes_processed": 0, "events_processed": 1}, nil},
		{"§3.2 one invalid object", map[string]any{"attributes": []any{map[string]any{"external_id": "u1"}, badEmail}}, 201, "success",
			[]string{"attributes_processed"}, map[string]float64{"attributes_processed": 1},
			[]ObjectError{{errInvalidEmail, "attributes", 1}}},
		{"§3.2 missing identifier", map[string]any{"attributes": []any{map[string]any{"x": 1}, map[string]any{"external_id": "u1"}}}, 201, "success",
			[]string{"attributes_processed"}, map[string]float64{"attributes_processed": 1},
			[]ObjectError{{errNoIdentifier, "attributes", 0}}},
		{"§3.2 non-object element", map[string]any{"events": []any{ev, 5}}, 201, "success",
			[]string{"events_processed"}, map[string]float64{"events_processed": 1},
			[]ObjectError{{errNotAnObject, "events", 1}}},
		{"§3.3 every object invalid is fatal", map[string]any{"attributes": []any{badEmail, badEmail}}, 400, msgNoValidData, nil, nil,
			[]ObjectError{{errInvalidEmail, "attributes", 0}, {errInvalidEmail, "attributes", 1}}},
		{"§3.3 no arrays", `{"partner":"x"}`, 400, msgNoValidData, nil, nil, nil},
		{"§3.3 bad JSON", `{"attributes": [`, 400, msgBadJSON, nil, nil, nil},
		{"§3.3 wrong array type", `{"attributes": {"external_id": "u1"}}`, 400, msgBadJSON, nil, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t, Options{})
			res := track(t, emu, tc.body)
			if res.Status != tc.wantStatus || res.Body.Message != tc.wantMsg {
				t.Fatalf("got %d %q, want %d %q", res.Status, res.Body.Message, tc.wantStatus, tc.wantMsg)
			}
			for _, k := range []string{"attributes_processed", "events_processed", "purchases_processed"} {
				_, has := res.Raw[k]
				want := false
				for _, w := range tc.wantKeys {
					want = want || w == k
				}
				if has != want {
					t.Errorf("%s present=%v, want %v (%v)", k, has, want, res.Raw)
				}
				if want && res.Raw[k] != tc.wantCounts[k] {
					t.Errorf("%s = %v, want %v", k, res.Raw[k], tc.wantCounts[k])
				}
			}
			if !reflect.DeepEqual(res.Body.Errors, tc.wantErrors) {
				t.Errorf("errors = %+v, want %+v", res.Body.Errors, tc.wantErrors)
			}
		})
	}
}

// TestTrackHTTPErrors covers §3.3 404 for unknown paths, the body-size limit (§1.5:
// no documented limit, 413 beyond MaxBodyBytes) and 405 for non-POST methods.
func TestTrackHTTPErrors(t *testing.T) {
	emu := startEmu(t, Options{MaxBodyBytes: 1024})
	big := `{"attributes":[{"external_id":"u1","s":"` + strings.Repeat("x", 2000) + `"}]}`
	cases := []struct {
		name   string
		method string
		path   string
		body   string
		want   int
	}{
		{"unknown path", http.MethodPost, "/users/nope", "{}", http.StatusNotFound},
		{"root", http.MethodGet, "/", "", http.StatusNotFound},
		{"GET track", http.MethodGet, pathTrack, "", http.StatusMethodNotAllowed},
		{"body too large", http.MethodPost, pathTrack, big, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, emu.URL()+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+testKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if s := emu.Stats(); s.Status[http.StatusNotFound] != 2 || s.Status[http.StatusRequestEntityTooLarge] != 1 {
		t.Fatalf("status counters %v", s.Status)
	}
}

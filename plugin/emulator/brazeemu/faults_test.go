package brazeemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// rawTrack sends one attributes object for id and reports the status, or the
// transport/body error the client saw.
func rawTrack(t *testing.T, emu *Emulator, id string) (int, error) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"attributes": []any{map[string]any{"external_id": id, "a": 1}}})
	req, _ := http.NewRequest(http.MethodPost, emu.URL()+pathTrack, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+testKey)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

// TestFaults covers the scripted faults (docs/braze-api.md §3.3-3.4 failure modes: 429,
// 5xx, timeouts, ambiguous failures after apply, partial 201s).
func TestFaults(t *testing.T) {
	cases := []struct {
		name        string
		faults      []Fault
		requests    int
		wantStatus  []int  // per request; 0 = transport error
		wantApplied []bool // per request: was its profile stored?
	}{
		{"503 twice then ok", []Fault{{Kind: FaultStatus, Status: 503, Count: 2}}, 3,
			[]int{503, 503, 201}, []bool{false, false, true}},
		{"500 default status", []Fault{{Kind: FaultStatus, Count: 1}}, 1, []int{500}, []bool{false}},
		{"429 burst", []Fault{{Kind: FaultRateLimit, Count: 2}}, 3, []int{429, 429, 201}, []bool{false, false, true}},
		{"reset before processing", []Fault{{Kind: FaultResetBefore, Count: 1}}, 2, []int{0, 201}, []bool{false, true}},
		{"reset after processing", []Fault{{Kind: FaultResetAfter, Count: 1}}, 2, []int{0, 201}, []bool{true, true}},
		{"truncated body after processing", []Fault{{Kind: FaultTruncate, Count: 1}}, 1, []int{-201}, []bool{true}},
		{"delay then normal", []Fault{{Kind: FaultDelay, Delay: 10 * time.Millisecond, Count: 1}}, 1, []int{201}, []bool{true}},
		{"delay combined with 502", []Fault{{Kind: FaultDelay, Delay: time.Millisecond}, {Kind: FaultStatus, Status: 502, Count: 1}}, 2,
			[]int{502, 201}, []bool{false, true}},
		{"after and every", []Fault{{Kind: FaultStatus, Status: 504, After: 1, Every: 2}}, 5,
			[]int{201, 504, 201, 504, 201}, []bool{true, false, true, false, true}},
		{"first terminal fault wins", []Fault{{Kind: FaultStatus, Status: 503, Count: 1}, {Kind: FaultStatus, Status: 500, Count: 1}}, 3,
			[]int{503, 500, 201}, []bool{false, false, true}},
		{"export-only fault leaves track alone", []Fault{{Kind: FaultStatus, Path: pathExportIDs}}, 1, []int{201}, []bool{true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t, Options{})
			emu.SetFaults(tc.faults...)
			for i := range tc.requests {
				id := string(rune('a' + i))
				status, err := rawTrack(t, emu, id)
				want := tc.wantStatus[i]
				switch {
				case want == 0 && err == nil:
					t.Fatalf("request %d: status %d, want a connection error", i, status)
				case want < 0 && (status != -want || !errors.Is(err, io.ErrUnexpectedEOF)):
					t.Fatalf("request %d: status %d err %v, want %d with a truncated body", i, status, err, -want)
				case want > 0 && (err != nil || status != want):
					t.Fatalf("request %d: status %d err %v, want %d", i, status, err, want)
				}
				if _, ok := emu.Profile(id); ok != tc.wantApplied[i] {
					t.Fatalf("request %d: applied=%v, want %v", i, ok, tc.wantApplied[i])
				}
			}
		})
	}
}

// TestFaultMinorErrors covers §3.2 partial success: chosen objects get an errors[]
// item and are not applied; the rest are.
func TestFaultMinorErrors(t *testing.T) {
	emu := startEmu(t, Options{})
	emu.SetFaults(Fault{Kind: FaultMinorErrors, Indexes: []int{1, 2}, Message: "boom", Count: 1})
	res := track(t, emu, attrs(4))
	want := []ObjectError{{"boom", "attributes", 1}, {"boom", "attributes", 2}}
	if res.Status != 201 || *res.Body.AttributesProcessed != 2 || !reflect.DeepEqual(res.Body.Errors, want) {
		t.Fatalf("got %d %+v", res.Status, res.Raw)
	}
	for i, wantStored := range []bool{true, false, false, true} {
		if _, ok := emu.Profile("u" + string(rune('0'+i))); ok != wantStored {
			t.Fatalf("u%d stored=%v", i, ok)
		}
	}
	if f := emu.Faults(); f[0].Fired != 1 {
		t.Fatalf("fired %d", f[0].Fired)
	}
}

// TestFaultProbabilityDeterministic: a seeded probabilistic fault gives the same
// outcome sequence on every run, and fires some but not all of the time.
func TestFaultProbabilityDeterministic(t *testing.T) {
	run := func() []int {
		emu := startEmu(t, Options{})
		emu.SetFaults(Fault{Kind: FaultStatus, Status: 503, Probability: 0.5, Seed: 42})
		var out []int
		for range 40 {
			out = append(out, track(t, emu, attrs(1)).Status)
		}
		return out
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("not deterministic:\n%v\n%v", a, b)
	}
	n503 := 0
	for _, s := range a {
		if s == 503 {
			n503++
		}
	}
	if n503 == 0 || n503 == len(a) {
		t.Fatalf("503s: %d of %d", n503, len(a))
	}
}

// TestFaultJSON: faults travel over the control API with delays as duration strings.
func TestFaultJSON(t *testing.T) {
	in := `[{"kind":"delay","delay":"250ms"},{"kind":"minor_errors","indexes":[3],"input_array":"events","count":1}]`
	var fs []Fault
	if err := json.Unmarshal([]byte(in), &fs); err != nil {
		t.Fatal(err)
	}
	if fs[0].Delay != 250*time.Millisecond || fs[1].InputArray != "events" || fs[1].Indexes[0] != 3 {
		t.Fatalf("%+v", fs)
	}
	out, _ := json.Marshal(fs[0])
	if !bytes.Contains(out, []byte(`"delay":"250ms"`)) {
		t.Fatalf("%s", out)
	}
	for _, bad := range []string{`{"kind":"explode"}`, `{"kind":"delay","delay":"soon"}`, `{"kind":"status","probability":2}`} {
		var f Fault
		if err := json.Unmarshal([]byte(bad), &f); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

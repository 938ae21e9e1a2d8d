package brazeemu

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentTrack checks the store under parallel requests (run with -race): array
// adds to one user from many requests all land, and the counters agree.
func TestConcurrentTrack(t *testing.T) {
	emu := startEmu(t, Options{})
	const workers, perWorker = 8, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				v := fmt.Sprintf("w%d-%d", w, i)
				body := jsonString(map[string]any{"attributes": []any{
					map[string]any{"external_id": "shared", "seen": map[string]any{"add": []any{v}}, "n": map[string]any{"inc": 1}},
					map[string]any{"external_id": v},
				}})
				// Not the track helper: t.Fatal must not be called off the test goroutine.
				req, _ := http.NewRequest(http.MethodPost, emu.URL()+pathTrack, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+testKey)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("request: %v", err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("status %d", resp.StatusCode)
				}
				_ = emu.Profiles() // readers run alongside writers
			}
		}()
	}
	wg.Wait()
	p := mustProfile(t, emu, "shared")
	seen := p.Custom["seen"].([]any)
	if len(seen) != workers*perWorker || p.Custom["n"] != int64(workers*perWorker) {
		t.Fatalf("seen %d values, n=%v", len(seen), p.Custom["n"])
	}
	s := emu.Stats()
	if s.Requests != workers*perWorker || s.AttributesProcessed != 2*workers*perWorker || len(emu.Profiles()) != 1+workers*perWorker {
		t.Fatalf("stats %+v, %d profiles", s, len(emu.Profiles()))
	}
}

// TestProfileIsACopy: values returned by Profile do not alias the store.
func TestProfileIsACopy(t *testing.T) {
	emu := startEmu(t, Options{})
	emu.Seed(Profile{ExternalID: "u1", Custom: map[string]any{"arr": []any{"a"}, "o": map[string]any{"k": "v"}}})
	p := mustProfile(t, emu, "u1")
	p.Custom["arr"].([]any)[0] = "changed"
	p.Custom["o"].(map[string]any)["k"] = "changed"
	p.Custom["new"] = 1
	q := mustProfile(t, emu, "u1")
	keys := make([]string, 0, len(q.Custom))
	for k := range q.Custom {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if q.Custom["arr"].([]any)[0] != "a" || q.Custom["o"].(map[string]any)["k"] != "v" || len(keys) != 2 {
		t.Fatalf("store changed through a copy: %#v", q.Custom)
	}
}

// TestResetClearsEverything covers Reset: profiles, counters, windows and faults.
func TestResetClearsEverything(t *testing.T) {
	emu := startEmu(t, Options{RateLimit: 1})
	emu.SetFaults(Fault{Kind: FaultStatus, Status: 500, After: 5})
	track(t, emu, attrs(1))
	if res := track(t, emu, attrs(1)); res.Status != 429 {
		t.Fatalf("want 429, got %d", res.Status)
	}
	emu.Reset()
	if len(emu.Profiles()) != 0 || emu.Stats().Requests != 0 || len(emu.Faults()) != 0 {
		t.Fatalf("not reset: %+v", emu.Stats())
	}
	if res := track(t, emu, attrs(1)); res.Status != 201 {
		t.Fatalf("rate window not reset: %d", res.Status)
	}
}

package brazeemu

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestRateLimit covers docs/braze-api.md §1.6: a fixed window per key, the three
// X-RateLimit headers on every authorised response (Reset in epoch seconds), 429 when
// exhausted, a new window after RateWindow, and RateLimit < 0 disabling it.
func TestRateLimit(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 500e6, time.UTC)}
	emu := startEmu(t, Options{APIKeys: []string{testKey, "other"}, RateLimit: 3, RateWindow: 3 * time.Second, Now: clock.now})
	wantReset := strconv.FormatInt(clock.t.Add(3*time.Second).Unix()+1, 10) // rounded up
	steps := []struct {
		key       string
		status    int
		remaining string
	}{
		{testKey, 201, "2"}, {testKey, 201, "1"}, {testKey, 201, "0"}, {testKey, 429, "0"}, {testKey, 429, "0"},
		{"other", 201, "2"}, // separate bucket per key
	}
	for i, st := range steps {
		res := post(t, emu, st.key, pathTrack, attrs(1))
		h := res.Header
		if res.Status != st.status || h.Get("X-RateLimit-Remaining") != st.remaining ||
			h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Reset") != wantReset {
			t.Fatalf("step %d: %d limit=%s remaining=%s reset=%s (want %d, %s, reset %s)", i, res.Status,
				h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"), st.status, st.remaining, wantReset)
		}
	}
	if s := emu.Stats(); s.RateLimited != 2 || s.Status[http.StatusTooManyRequests] != 2 {
		t.Fatalf("stats %+v", s)
	}
	clock.add(3 * time.Second)
	if res := track(t, emu, attrs(1)); res.Status != 201 || res.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("after window: %d remaining %s", res.Status, res.Header.Get("X-RateLimit-Remaining"))
	}
}

func TestRateLimitDisabled(t *testing.T) {
	emu := startEmu(t, Options{RateLimit: -1})
	for range 5 {
		res := track(t, emu, attrs(1))
		if res.Status != 201 || res.Header.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("%d %v", res.Status, res.Header)
		}
	}
}

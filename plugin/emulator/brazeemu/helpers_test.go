package brazeemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

const testKey = "test-key"

// trackResult is a decoded /users/track answer.
type trackResult struct {
	Status int
	Header http.Header
	Body   TrackResponse
	Raw    map[string]any
}

// post sends body (a JSON string or a value to marshal) to path on a started emulator.
func post(t *testing.T, emu *Emulator, key, path string, body any) trackResult {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		b, err = json.Marshal(v)
		if err != nil {
			t.Fatalf("marshalling body: %v", err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, emu.URL()+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	res := trackResult{Status: resp.StatusCode, Header: resp.Header}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &res.Body); err != nil {
			t.Fatalf("decoding %q: %v", raw, err)
		}
		_ = json.Unmarshal(raw, &res.Raw)
	}
	return res
}

func track(t *testing.T, emu *Emulator, body any) trackResult {
	t.Helper()
	return post(t, emu, testKey, pathTrack, body)
}

// start serves an emulator on a loopback port until the test ends.
func start(tb testing.TB, opts Options) *Emulator {
	tb.Helper()
	e := New(opts)
	if err := e.Listen("127.0.0.1:0"); err != nil {
		tb.Fatalf("starting braze emulator: %v", err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	return e
}

func startEmu(t *testing.T, opts Options) *Emulator {
	t.Helper()
	if opts.APIKeys == nil {
		opts.APIKeys = []string{testKey}
	}
	return start(t, opts)
}

// attrs builds a body with n attribute objects for users u0..u(n-1).
func attrs(n int) map[string]any {
	objs := make([]any, n)
	for i := range objs {
		objs[i] = map[string]any{"external_id": fmt.Sprintf("u%d", i), "plan": "gold"}
	}
	return map[string]any{"attributes": objs}
}

func objects(prefix string, n int, extra map[string]any) []any {
	objs := make([]any, n)
	for i := range objs {
		o := map[string]any{"external_id": fmt.Sprintf("%s%d", prefix, i)}
		for k, v := range extra {
			o[k] = v
		}
		objs[i] = o
	}
	return objs
}

func mustProfile(t *testing.T, emu *Emulator, id string) Profile {
	t.Helper()
	p, ok := emu.Profile(id)
	if !ok {
		t.Fatalf("profile %q not stored; have %d profiles", id, len(emu.Profiles()))
	}
	return p
}

// fakeClock is an injectable Options.Now.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

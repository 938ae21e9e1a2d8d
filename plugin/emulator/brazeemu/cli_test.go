package brazeemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brazesync/brazesync/test/testbin"
)

// startMain runs Main on 127.0.0.1:0 and returns its base URL once it prints the
// listening line.
func startMain(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testbin.Buffer // read while Main writes them
	done := make(chan int, 1)
	go func() { done <- Main(ctx, append([]string{"--listen", "127.0.0.1:0"}, args...), &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("Main exited %d: %s", code, stderr.String())
		}
	})
	for i := 0; ; i++ {
		line, _ := bufio.NewReader(strings.NewReader(stdout.String())).ReadString('\n')
		if u, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on "); ok {
			return u
		}
		select {
		case code := <-done:
			t.Fatalf("Main exited %d before listening: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if i > 1000 {
			t.Fatal("Main never printed its listening line")
		}
	}
}

func doJSON(t *testing.T, method, url, key, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestMainAndControlSurface runs the standalone emulator and drives it through the
// API and the /_emulator/ control endpoints.
func TestMainAndControlSurface(t *testing.T) {
	base := startMain(t, "--api-key", "k1", "--key-permissions", "ro=users.export.ids", "--rate-limit", "100", "--object-cap", "50")
	steps := []struct {
		name, method, path, key, body string
		want                          int
		contains                      string
	}{
		{"seed", "POST", "/_emulator/profiles", "", `[{"external_id":"s1","custom":{"n":1}}]`, 200, `"seeded":1`},
		{"track", "POST", "/users/track", "k1", `{"attributes":[{"external_id":"s1","n":{"inc":2}}]}`, 201, `"attributes_processed":1`},
		{"ro key cannot track", "POST", "/users/track", "ro", `{"attributes":[{"external_id":"x"}]}`, 403, msgAccessDenied},
		{"object cap flag", "POST", "/users/track", "k1", jsonString(attrs(51)), 400, msgMaxInput},
		{"read profile", "GET", "/_emulator/profiles/s1", "", "", 200, `"n":3`},
		{"read missing profile", "GET", "/_emulator/profiles/zz", "", "", 404, ""},
		{"list profiles", "GET", "/_emulator/profiles", "", "", 200, `"external_id":"s1"`},
		{"ro key exports", "POST", "/users/export/ids", "ro", `{"external_ids":["s1"],"fields_to_export":["custom_attributes"]}`, 200, `"n":3`},
		{"set faults", "PUT", "/_emulator/faults", "", `[{"kind":"status","status":503,"count":1}]`, 200, `"status":503`},
		{"fault fires", "POST", "/users/track", "k1", `{"attributes":[{"external_id":"s2"}]}`, 503, ""},
		{"faults fired count", "GET", "/_emulator/faults", "", "", 200, `"fired":1`},
		{"stats", "GET", "/_emulator/stats", "", "", 200, `"faults_injected":1`},
		{"reset", "POST", "/_emulator/reset", "", "", 200, ""},
		{"empty after reset", "GET", "/_emulator/profiles", "", "", 200, `[]`},
		{"unknown control path", "GET", "/_emulator/nope", "", "", 404, ""},
	}
	for _, st := range steps {
		code, body := doJSON(t, st.method, base+st.path, st.key, st.body)
		if code != st.want || !strings.Contains(string(body), st.contains) {
			t.Fatalf("%s: %d %s, want %d containing %q", st.name, code, body, st.want, st.contains)
		}
	}
}

func TestMainAdminToken(t *testing.T) {
	base := startMain(t, "--api-key", "k1", "--admin-token", "adm")
	if code, _ := doJSON(t, "GET", base+"/_emulator/stats", "", ""); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	code, body := doJSON(t, "GET", base+"/_emulator/stats", "adm", "")
	var s Stats
	if code != 200 || json.Unmarshal(body, &s) != nil {
		t.Fatalf("with token: %d %s", code, body)
	}
}

func TestMainFlagErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"no key", []string{"--listen", "127.0.0.1:0"}, 2},
		{"bad flag", []string{"--nope"}, 2},
		{"bad key-permissions", []string{"--key-permissions", "x"}, 2},
		{"bad listen", []string{"--api-key", "k", "--listen", "256.0.0.1:x"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("BRAZE_API_KEY", "")
			var out, errb bytes.Buffer
			if code := Main(context.Background(), tc.args, &out, &errb); code != tc.want {
				t.Fatalf("exit %d, want %d (%s)", code, tc.want, errb.String())
			}
		})
	}
}

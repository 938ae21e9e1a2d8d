package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestRunFailsClearly: each misconfiguration ends with a message naming the problem, its exit code,
// nothing sent to Braze, and the key nowhere in the output.
func TestRunFailsClearly(t *testing.T) {
	const key = "e2e-errors-key-2b9c"
	sample := filepath.Join(testbin.Root(), "docs/examples/data/users.csv")
	noKeyCSV := filepath.Join(t.TempDir(), "nokey.csv")
	if err := os.WriteFile(noKeyCSV, []byte("braze[first_name],braze[ltv]\nAda,1.5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		file     string
		extra    []string
		apiKey   string
		endpoint func(*brazeemu.Emulator) string
		wantCode int
		wantMsg  string
	}{
		{name: "wrong API key", file: sample, apiKey: "not-the-key-91", wantCode: runner.ExitAuth, wantMsg: "rejected the API key"},
		{name: "unreachable endpoint", file: sample, apiKey: key, endpoint: func(*brazeemu.Emulator) string { return "http://127.0.0.1:1" },
			wantCode: runner.ExitAuth, wantMsg: "unreachable"},
		{name: "missing key column", file: noKeyCSV, apiKey: key, wantCode: runner.ExitConfig, wantMsg: "key column"},
		{name: "unknown spec field", file: sample, apiKey: key, extra: []string{"batch_sise: 10"}, wantCode: runner.ExitConfig, wantMsg: "batch_sise"},
		{name: "endpoint not a Braze host", file: sample, apiKey: key, endpoint: func(*brazeemu.Emulator) string { return "https://api.example.com" },
			wantCode: runner.ExitConfig, wantMsg: "not a Braze REST host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}})
			endpoint := emu.URL()
			if tc.endpoint != nil {
				endpoint = tc.endpoint(emu)
			}
			res := syncSpec(t, fileToBraze(tc.file, tc.extra...),
				map[string]string{"BRAZE_API_KEY": tc.apiKey, "BRAZE_ENDPOINT": endpoint})
			if res.Code != tc.wantCode {
				t.Errorf("exit code %d, want %d\n%s", res.Code, tc.wantCode, res.Stderr)
			}
			if !strings.Contains(res.Stderr, tc.wantMsg) {
				t.Errorf("stderr does not say %q:\n%s", tc.wantMsg, res.Stderr)
			}
			if n := len(emu.Profiles()); n != 0 {
				t.Errorf("%d profiles written despite the error", n)
			}
			if res.Report == nil || res.Report.Status != "failed" {
				t.Errorf("report missing or not failed: %+v", res.Report)
			}
			testbin.AssertNoSecret(t, res, tc.apiKey)
			testbin.AssertNoSecret(t, res, key)
		})
	}
}

func replaceAll(s, old, new string) string { return strings.ReplaceAll(s, old, new) }

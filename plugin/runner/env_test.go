package runner

import (
	"slices"
	"testing"
)

// TestChildEnv: a plugin gets the basics, the test hooks and the variables its own spec names in a
// *_env field; no other variable of the runner's environment, secrets included.
func TestChildEnv(t *testing.T) {
	t.Setenv("PATH", "/usr/bin")
	t.Setenv("LC_ALL", "C.UTF-8")
	t.Setenv("BRAZESYNC_TEST_PANIC_AFTER_ROWS", "7")
	t.Setenv("BRAZE_API_KEY", "secret-key")
	t.Setenv("LOOKER_CLIENT_SECRET", "secret-looker")
	t.Setenv("SNOWFLAKE_PASSWORD", "secret-sf")

	looker := childEnv(map[string]any{"client_secret_env": "LOOKER_CLIENT_SECRET", "base_url": "https://x"})
	braze := childEnv(map[string]any{"api_key": "secret-key"})
	for _, want := range []string{"PATH=/usr/bin", "LC_ALL=C.UTF-8", "BRAZESYNC_TEST_PANIC_AFTER_ROWS=7"} {
		if !slices.Contains(looker, want) || !slices.Contains(braze, want) {
			t.Errorf("%s missing: %q / %q", want, looker, braze)
		}
	}
	if !slices.Contains(looker, "LOOKER_CLIENT_SECRET=secret-looker") {
		t.Errorf("the variable the looker spec names is not passed to it: %q", looker)
	}
	for _, env := range [][]string{looker, braze} {
		for _, kv := range env {
			if kv == "BRAZE_API_KEY=secret-key" || kv == "SNOWFLAKE_PASSWORD=secret-sf" {
				t.Errorf("%s reaches a plugin", kv)
			}
		}
	}
	if slices.Contains(braze, "LOOKER_CLIENT_SECRET=secret-looker") {
		t.Error("looker's secret reaches another plugin")
	}
	if childEnv(nil) == nil {
		t.Error("nil environment: exec would inherit everything")
	}
}

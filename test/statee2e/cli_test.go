package statee2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestStateCommands: `state show` lists what a sync recorded, `sync --full-refresh` sends
// everything again, and `state reset --table` makes the next run send everything once. The
// destination is not called "braze", so the state must be kept under the spec's own name.
func TestStateCommands(t *testing.T) {
	emu := startBraze(t)
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	spec := specFor(writeUsers(t, dir, "users.parquet", population(2000, nil)), stateDir, "rate_limit: -1")
	spec = strings.Replace(spec, "\n  name: braze\n", "\n  name: braze-vip\n", 1)
	spec = strings.Replace(spec, "destinations: [braze]", "destinations: [braze-vip]", 1)
	if !strings.Contains(spec, "name: braze-vip") {
		t.Fatal("the destination document changed shape: no name to replace")
	}
	specPath := filepath.Join(dir, "spec.yml")
	if err := os.WriteFile(specPath, []byte(strings.ReplaceAll(spec, "{{BIN}}", testbin.Dir(t))), 0o600); err != nil {
		t.Fatal(err)
	}
	sync(t, emu, spec, 0)

	var shown []struct {
		Destination string `json:"destination"`
		Tables      []struct {
			Users, Flagged int64
			Namespace      struct{ Table string }
		} `json:"tables"`
	}
	out := brazesync(t, emu, 0, "state", "show", "--format", "json", specPath)
	if err := json.Unmarshal([]byte(out), &shown); err != nil || len(shown) != 1 || shown[0].Destination != "braze-vip" || len(shown[0].Tables) != 1 ||
		shown[0].Tables[0].Users != 2000 || shown[0].Tables[0].Flagged != 2000 {
		t.Fatalf("state show: %v\n%s", err, out)
	}
	table := shown[0].Tables[0].Namespace.Table
	if text := brazesync(t, emu, 0, "state", "show", specPath); !strings.Contains(text, "2000 users, 2000 flagged") {
		t.Errorf("state show (text):\n%s", text)
	}

	if res := sync(t, emu, spec, 0, "--full-refresh"); res.Report.UsersSent != 2000 {
		t.Fatalf("--full-refresh sent %d of 2000 users", res.Report.UsersSent)
	}
	if res := sync(t, emu, spec, 0); res.Report.UsersSent != 0 {
		t.Fatalf("after --full-refresh, an unchanged run sent %d users", res.Report.UsersSent)
	}
	if out := brazesync(t, emu, 0, "state", "reset", "--table", "no_such_table", specPath); !strings.Contains(out, "nothing to reset") {
		t.Errorf("reset of an unknown table: %s", out)
	}
	if res := sync(t, emu, spec, 0); res.Report.UsersSent != 0 {
		t.Fatalf("another table's reset changed this one: %d sent", res.Report.UsersSent)
	}
	if out := brazesync(t, emu, 0, "state", "reset", "--table", table, specPath); !strings.Contains(out, "reset braze-vip table "+table) {
		t.Errorf("state reset: %s", out)
	}
	if res := sync(t, emu, spec, 0); res.Report.UsersSent != 2000 {
		t.Fatalf("after state reset, %d of 2000 users sent", res.Report.UsersSent)
	}
}

// brazesync runs the brazesync binary with args and returns its stdout; it fails unless the exit
// code is want.
func brazesync(t *testing.T, emu *brazeemu.Emulator, want int, args ...string) string {
	t.Helper()
	cmd := exec.Command(testbin.Path(t, "brazesync"), args...)
	cmd.Env = os.Environ()
	for k, v := range env(emu) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Fatalf("brazesync %v exited %d, want %d\n%s%s", args, code, want, out, stderr.String())
	}
	return string(out)
}

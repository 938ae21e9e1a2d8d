package warehousee2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/test/testbin"
)

// TestStateCommandsActOnTheWarehouse: `brazesync state show` and `state reset`, each run on a
// machine that never synced (an empty folder), act on the state in Snowflake, which is what the
// next run from any machine reads: show lists the users the first machine recorded, and after
// reset a third machine sends every user once again, then nothing.
func TestStateCommandsActOnTheWarehouse(t *testing.T) {
	w := newWorld(t, 300)
	w.mustSync(w.spec(false))

	var shown []struct {
		Destination, Warehouse string
		Tables                 []struct{ Users, Flagged int64 }
	}
	out := w.cli("state", "show", "--format", "json")
	if err := json.Unmarshal([]byte(out), &shown); err != nil || len(shown) != 1 || shown[0].Warehouse != "BRAZE.BRAZESYNC" ||
		len(shown[0].Tables) != 1 || shown[0].Tables[0].Users != int64(w.users) || shown[0].Tables[0].Flagged != int64(w.users) {
		t.Fatalf("state show on a fresh machine: %v\n%s", err, out)
	}
	if text := w.cli("state", "show"); !strings.Contains(text, "Snowflake BRAZE.BRAZESYNC") || !strings.Contains(text, "300 users, 300 flagged") {
		t.Errorf("state show (text):\n%s", text)
	}

	if out := w.cli("state", "reset"); !strings.Contains(out, "reset braze table") || !strings.Contains(out, "in Snowflake BRAZE.BRAZESYNC") {
		t.Fatalf("state reset: %s", out)
	}
	before := w.objects()
	res := w.mustSync(w.spec(false))
	if res.Report.UsersSent != int64(w.users) || w.objects()-before != int64(w.users) {
		t.Fatalf("after state reset, a run from a third folder sent %d users (%d objects), want all %d",
			res.Report.UsersSent, w.objects()-before, w.users)
	}
	if res := w.mustSync(w.spec(false)); res.Report.UsersSent != 0 {
		t.Errorf("the state was not recorded again after the reset: the next run sent %d users", res.Report.UsersSent)
	}
	w.assertBrazeEqualsSource()
}

// cli runs `brazesync ARGS spec.yml` in a new, empty folder (a machine that never synced) and
// returns its stdout; it fails the test unless the command succeeds.
func (w *world) cli(args ...string) string {
	w.t.Helper()
	dir := w.t.TempDir()
	spec := strings.NewReplacer("{{BIN}}", testbin.Dir(w.t), "{{ROOT}}", testbin.Root()).Replace(w.spec(false))
	path := filepath.Join(dir, "spec.yml")
	if err := os.WriteFile(path, []byte(spec), 0o600); err != nil {
		w.t.Fatal(err)
	}
	cmd := exec.Command(testbin.Path(w.t, "brazesync"), append(args, path)...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range w.env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		w.t.Fatalf("brazesync %s: %v\n%s", strings.Join(args, " "), err, testbin.Tail(stderr.String(), 4000))
	}
	return string(out)
}

package warehousee2e

import (
	"encoding/json"
	"errors"
	"os/exec"
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

// TestStateResetWaitsForNoRun: while a run holds the warehouse state, `state reset` from another
// machine is refused, naming that run, and changes nothing; `check` warns that it is held.
func TestStateResetWaitsForNoRun(t *testing.T) {
	w := newWorld(t, 300)
	w.mustSync(w.spec(false))
	w.change(200, "platinum")
	running := w.start(w.spec(false, paced...))
	w.waitFor("the paced run to take the lock", func() bool { return w.lockHolder() != "" })
	holder := w.lockHolder()
	out, code := w.cliSpec(w.spec(false), "state", "reset")
	if code == 0 || !strings.Contains(out, holder) {
		t.Errorf("state reset during run %s: exit %d\n%s", holder, code, out)
	}
	if out := w.cli("check"); !strings.Contains(out, "WARN  braze: warehouse state") || !strings.Contains(out, "held by run "+holder) {
		t.Errorf("check during run %s:\n%s", holder, out)
	}
	if err := running.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-running.exited
}

// TestCheckReadsTheWarehouseState: `brazesync check` logs in to the warehouse state and says what
// it holds, without taking its lock: no tables before the first run, then the version and users;
// a database that does not exist fails the check, naming it.
func TestCheckReadsTheWarehouseState(t *testing.T) {
	w := newWorld(t, 300)
	if out := w.cli("check"); !strings.Contains(out, "braze: warehouse state") || !strings.Contains(out, "no state tables yet") {
		t.Errorf("check before the first run:\n%s", out)
	}
	w.mustSync(w.spec(false))
	if out := w.cli("check"); !strings.Contains(out, "BRAZE.BRAZESYNC: logged in; version 1, 300 users in 1 tables") {
		t.Errorf("check after a run:\n%s", out)
	}
	if w.lockHolder() != "" {
		t.Errorf("check left the lock held by %q", w.lockHolder())
	}
	spec := strings.Replace(w.spec(false), "database: BRAZE", "database: NOPE", 1)
	out, code := w.cliSpec(spec, "check")
	if code != 1 || !strings.Contains(out, "warehouse state") || !strings.Contains(out, "NOPE") {
		t.Errorf("check with a database that does not exist: exit %d\n%s", code, out)
	}
}

// cli runs `brazesync ARGS spec.yml` in a new, empty folder (a machine that never synced) and
// returns its stdout; it fails the test unless the command succeeds.
func (w *world) cli(args ...string) string {
	w.t.Helper()
	out, code := w.cliSpec(w.spec(false), args...)
	if code != 0 {
		w.t.Fatalf("brazesync %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// cliSpec runs `brazesync ARGS spec.yml` with spec in a new, empty folder and returns its stdout
// and exit code (stderr follows stdout on a failure).
func (w *world) cliSpec(spec string, args ...string) (string, int) {
	w.t.Helper()
	cmd := w.command(spec, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out) + testbin.Tail(stderr.String(), 4000), exit.ExitCode()
	case err != nil:
		w.t.Fatalf("brazesync %s: %v", strings.Join(args, " "), err)
	}
	return string(out), 0
}

package mirrore2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/testbin"
)

const guardUsers = 2000

// mirrored runs a first, clean sync of guardUsers users and returns the spec builder for the next
// runs (same state folder) and the users.
func mirrored(t *testing.T, emu *brazeemu.Emulator, extra ...string) (func(srcBin string, us []user, srcExtra ...string) string, []user) {
	t.Helper()
	stateDir := t.TempDir()
	spec := func(srcBin string, us []user, srcExtra ...string) string {
		return mirrorSpec(srcBin, writeUsers(t, t.TempDir(), "users.parquet", us), stateDir, srcExtra, extra...)
	}
	all := population(0, guardUsers)
	runSync(t, emu, spec(testbin.Dir(t), all), 0)
	if countFlagged(emu) != guardUsers {
		t.Fatalf("first run flagged %d users", countFlagged(emu))
	}
	return spec, all
}

func stayers(all []user) []user {
	var out []user
	for i, u := range all {
		if !departs(i) {
			out = append(out, u)
		}
	}
	return out
}

// signalAfter sends SIGINT to the sync once the emulator has received more than n requests.
func signalAfter(emu *brazeemu.Emulator, n int64) func(pid int) func() {
	return func(pid int) func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if emu.Stats().Requests > n {
					_ = syscall.Kill(pid, syscall.SIGINT)
					return
				}
			}
		}()
		return func() { <-done }
	}
}

// TestMirrorGuardsRemoveNobody: a run whose source fails in the middle of the table, a run
// cancelled by SIGINT and a run that would remove 60% of the flagged users each remove nobody,
// count the users they spared under the guard's name, and exit with the code that says why.
func TestMirrorGuardsRemoveNobody(t *testing.T) {
	t.Run("source fails on the table", func(t *testing.T) {
		emu := startBraze(t)
		spec, all := mirrored(t, emu)
		res := testbin.Sync(t, spec(hookedFileSource(t), stayers(all), "batch_rows: 100"), testbin.SyncOptions{
			Env: map[string]string{"BRAZE_API_KEY": apiKey, "BRAZE_ENDPOINT": emu.URL(), "BRAZESYNC_TEST_SOURCE_PANIC_AFTER_ROWS": "500"}})
		rep := res.Report
		if res.Code != runner.ExitPlugin || rep == nil {
			t.Fatalf("exit %d, want %d\n%s", res.Code, runner.ExitPlugin, testbin.Tail(res.Stderr, 2000))
		}
		if rep.UsersRemoved != 0 || rep.RemovalsRefused["source_error"] < guardUsers/2 || countFlagged(emu) != guardUsers {
			t.Fatalf("removed %d, refused %v, %d still flagged", rep.UsersRemoved, rep.RemovalsRefused, countFlagged(emu))
		}
		assertNote(t, rep, "the source reported errors for this table")
	})

	t.Run("cancelled", func(t *testing.T) {
		emu := startBraze(t)
		spec, all := mirrored(t, emu, "batch_size: 10", "concurrency: 2")
		changed := stayers(all)
		for i := range changed {
			changed[i].score += 10_000 // something to send, slowly, while the signal comes
		}
		emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 100 * time.Millisecond})
		base := emu.Stats().Requests
		res := testbin.Sync(t, spec(testbin.Dir(t), changed), testbin.SyncOptions{Env: env(emu), Watch: signalAfter(emu, base+4)})
		rep := res.Report
		if res.Code != runner.ExitCancelled || rep == nil {
			t.Fatalf("exit %d, want %d\n%s", res.Code, runner.ExitCancelled, testbin.Tail(res.Stderr, 2000))
		}
		departed := int64(guardUsers / 10)
		if rep.UsersRemoved != 0 || rep.RemovalsRefused["run_cancelled"] != departed || countFlagged(emu) != guardUsers {
			t.Fatalf("removed %d, refused %v, %d still flagged", rep.UsersRemoved, rep.RemovalsRefused, countFlagged(emu))
		}
		assertNote(t, rep, "stays on 200 users who left the query")
	})

	t.Run("60 percent would leave", func(t *testing.T) {
		emu := startBraze(t)
		spec, all := mirrored(t, emu)
		kept := all[:guardUsers*4/10]
		res := runSync(t, emu, spec(testbin.Dir(t), kept), runner.ExitFailed)
		rep := res.Report
		if rep.UsersRemoved != 0 || rep.RemovalsRefused["max_removal_ratio"] != guardUsers*6/10 || countFlagged(emu) != guardUsers {
			t.Fatalf("removed %d, refused %v, %d still flagged", rep.UsersRemoved, rep.RemovalsRefused, countFlagged(emu))
		}
		for _, want := range []string{"1200 of the 2000 users flagged before", "max_removal_ratio 0.5", "--allow-mass-removal"} {
			if !strings.Contains(res.Stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, testbin.Tail(res.Stderr, 2000))
			}
		}
		res = runSync(t, emu, spec(testbin.Dir(t), kept), 0, "--allow-mass-removal")
		if res.Report.UsersRemoved != guardUsers*6/10 || countFlagged(emu) != len(kept) {
			t.Fatalf("--allow-mass-removal: removed %d, %d flagged", res.Report.UsersRemoved, countFlagged(emu))
		}
	})
}

// TestMirrorSignalDuringRemovals: SIGINT while the removals are being sent stops new removal
// requests, lets those on the wire finish, exits 130, and leaves a state that matches Braze: every
// user Braze removed the label from is recorded, and the next run removes exactly the rest.
func TestMirrorSignalDuringRemovals(t *testing.T) {
	emu := startBraze(t)
	spec, all := mirrored(t, emu, "batch_size: 10", "concurrency: 2")
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 150 * time.Millisecond})
	base := emu.Stats()
	// The second run sends nothing but removals (200 users, 20 requests): signal after the third.
	res := testbin.Sync(t, spec(testbin.Dir(t), stayers(all)), testbin.SyncOptions{Env: env(emu), Watch: signalAfter(emu, base.Requests+1+3)})
	rep := res.Report
	if res.Code != runner.ExitCancelled || rep == nil {
		t.Fatalf("exit %d, want %d\n%s", res.Code, runner.ExitCancelled, testbin.Tail(res.Stderr, 2000))
	}
	removed := rep.UsersRemoved
	departed := int64(guardUsers / 10)
	objects := emu.Stats().ObjectsReceived - base.ObjectsReceived
	if removed == 0 || removed == departed || removed+rep.RemovalsRefused["run_cancelled"] != departed || objects != removed {
		t.Fatalf("removed %d, refused %v, %d objects reached Braze; want some of %d removed, the rest refused, nothing unaccounted",
			removed, rep.RemovalsRefused, objects, departed)
	}
	if got := countFlagged(emu); int64(got) != guardUsers-removed {
		t.Fatalf("%d flagged in Braze, want %d", got, guardUsers-removed)
	}
	emu.SetFaults()
	next := runSync(t, emu, spec(testbin.Dir(t), stayers(all)), 0)
	if next.Report.UsersRemoved != departed-removed || countFlagged(emu) != guardUsers-int(departed) {
		t.Fatalf("next run removed %d, want %d; %d flagged", next.Report.UsersRemoved, departed-removed, countFlagged(emu))
	}
}

func assertNote(t *testing.T, rep *runner.RunReport, want string) {
	t.Helper()
	if !strings.Contains(strings.Join(rep.Notes, "\n"), want) {
		t.Errorf("the report's notes do not say %q: %q", want, rep.Notes)
	}
}

package mirrore2e

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestMirrorDeparturesAndArrivals syncs 100,000 users, then the same spec with every tenth user gone
// and 5,000 new: each departed user loses the label and, with on_leave unflag, keeps every other
// attribute (with unset, loses the table's attributes too); each new user is flagged; nobody else
// is touched; and the second run sends one object per departure and per arrival, no more.
func TestMirrorDeparturesAndArrivals(t *testing.T) {
	const n, arrivals = 100_000, 5_000
	for _, onLeave := range []string{"unflag", "unset"} {
		t.Run(onLeave, func(t *testing.T) {
			emu := startBraze(t)
			stateDir := t.TempDir()
			first := population(0, n)
			spec := func(file string) string {
				return mirrorSpec(testbin.Dir(t), file, stateDir, nil, "on_leave: "+onLeave)
			}
			res := runSync(t, emu, spec(writeUsers(t, t.TempDir(), "users.parquet", first)), 0)
			if res.Report.UsersSent != n || res.Report.UsersRemoved != 0 || countFlagged(emu) != n {
				t.Fatalf("first run: sent %d, removed %d, %d flagged", res.Report.UsersSent, res.Report.UsersRemoved, countFlagged(emu))
			}
			before := snapshot(emu)
			var second []user
			departed := 0
			for i, u := range first {
				if departs(i) {
					departed++
					continue
				}
				second = append(second, u)
			}
			second = append(second, population(n, n+arrivals)...)
			objects := emu.Stats().ObjectsReceived
			res = runSync(t, emu, spec(writeUsers(t, t.TempDir(), "users.parquet", second)), 0)
			rep := res.Report
			sent := emu.Stats().ObjectsReceived - objects
			if rep.UsersRemoved != int64(departed) || rep.UsersSent != arrivals || sent != int64(departed+arrivals) {
				t.Fatalf("second run: removed %d (want %d), sent %d (want %d), %d objects reached Braze (want %d)",
					rep.UsersRemoved, departed, rep.UsersSent, arrivals, sent, departed+arrivals)
			}
			t.Logf("second run: %d removed, %d sent, %d requests, %.2fs", rep.UsersRemoved, rep.UsersSent, rep.Requests, rep.DurationSeconds)
			checkProfiles(t, emu, before, n, arrivals, onLeave)
		})
	}
}

// checkProfiles compares every profile with what the second run must leave: departed users without
// the label (and, under unset, without the table's attributes), new users flagged with their values,
// everyone else exactly as the first run left them.
func checkProfiles(t *testing.T, emu *brazeemu.Emulator, before map[string]map[string]any, n, arrivals int, onLeave string) {
	t.Helper()
	after := snapshot(emu)
	if len(after) != n+arrivals {
		t.Fatalf("%d profiles, want %d", len(after), n+arrivals)
	}
	for i := range n + arrivals {
		u := newUser(i)
		got, old := after[u.id], before[u.id]
		switch {
		case i >= n:
			if !flaggedAttrs(got) || fmt.Sprint(got["score"]) != fmt.Sprint(u.score) || got["segment"] != u.segment {
				t.Fatalf("new user %s: %v", u.id, got)
			}
		case departs(i):
			if flaggedAttrs(got) {
				t.Fatalf("departed user %s still flagged: %v", u.id, got)
			}
			_, hasScore := got["score"]
			_, hasSegment := got["segment"]
			if onLeave == "unset" && (hasScore || hasSegment) {
				t.Fatalf("departed user %s (unset) kept attributes: %v", u.id, got)
			}
			if onLeave == "unflag" && (fmt.Sprint(got["score"]) != fmt.Sprint(old["score"]) || got["segment"] != old["segment"]) {
				t.Fatalf("departed user %s (unflag) lost attributes: %v, had %v", u.id, got, old)
			}
		default:
			if !reflect.DeepEqual(got, old) {
				t.Fatalf("user %s who stayed was touched: %v, had %v", u.id, got, old)
			}
		}
	}
}

func flaggedAttrs(custom map[string]any) bool { return flagged(brazeemu.Profile{Custom: custom}) }

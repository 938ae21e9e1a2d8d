package destination

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
)

// users builds n rows u0000.. with name "n<i>" and score i*mult.
func users(n int, name func(i int) string, score func(i int) int64) []userRow {
	rows := make([]userRow, n)
	for i := range rows {
		rows[i] = userRow{ID: str(fmt.Sprintf("u%04d", i)), Name: str(name(i)), Score: num(score(i))}
	}
	return rows
}

func plainName(i int) string { return fmt.Sprintf("n%d", i) }
func plainScore(i int) int64 { return int64(i) }
func diffRun(t *testing.T, spec *Spec, rows []userRow, opts ...Option) *report.Report {
	t.Helper()
	rec := usersRecord("users", rows)
	defer rec.Release()
	w, werr, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{rec}, opts...)
	if werr != nil || cerr != nil {
		t.Fatalf("run: write %v, close %v", werr, cerr)
	}
	rep := w.Progress()
	if !rep.Balanced() {
		t.Fatalf("report does not add up: %+v", rep)
	}
	return rep
}

// TestResyncSendsOnlyWhatChanged: an identical second run sends nothing; changing one attribute of
// a few users sends exactly those attributes (checked on the emulator's data-point counter) and
// the emulator ends equal to the source.
func TestResyncSendsOnlyWhatChanged(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), nil)
	const n = 300
	first := diffRun(t, spec, users(n, plainName, plainScore))
	s1 := emu.Stats()
	if first.UsersSent != n || s1.ObjectsReceived != n {
		t.Fatalf("first run sent %d users, emulator got %d objects", first.UsersSent, s1.ObjectsReceived)
	}

	second := diffRun(t, spec, users(n, plainName, plainScore))
	s2 := emu.Stats()
	if second.UsersSent != 0 || second.RowsUnchanged != n || s2.ObjectsReceived != s1.ObjectsReceived || s2.DataPoints != s1.DataPoints {
		t.Fatalf("identical re-sync: sent %d, unchanged %d, objects +%d, data points +%d", second.UsersSent,
			second.RowsUnchanged, s2.ObjectsReceived-s1.ObjectsReceived, s2.DataPoints-s1.DataPoints)
	}
	if second.AttributesUnchanged != 2*n || second.DataPointsSaved != 3*n {
		t.Errorf("identical re-sync: %d attributes unchanged, %d data points saved; want %d, %d",
			second.AttributesUnchanged, second.DataPointsSaved, 2*n, 3*n)
	}

	changed := func(i int) int64 {
		if i%30 == 0 {
			return int64(i) + 1000
		}
		return int64(i)
	}
	third := diffRun(t, spec, users(n, plainName, changed))
	s3 := emu.Stats()
	if third.UsersSent != n/30 || s3.ObjectsReceived-s2.ObjectsReceived != n/30 || s3.DataPoints-s2.DataPoints != n/30 {
		t.Fatalf("one attribute of %d users changed: sent %d users, objects +%d, data points +%d",
			n/30, third.UsersSent, s3.ObjectsReceived-s2.ObjectsReceived, s3.DataPoints-s2.DataPoints)
	}
	for i := range n {
		p, ok := emu.Profile(fmt.Sprintf("u%04d", i))
		if !ok || fmt.Sprint(p.Custom["score"]) != fmt.Sprint(changed(i)) || p.Custom["name"] != plainName(i) {
			t.Fatalf("user %d in Braze: %v %v", i, ok, p.Custom)
		}
	}
}

// TestRejectedUsersKeepTheirState: users Braze rejected by index are not recorded, so the next run
// sends exactly them again; everyone else stays unchanged.
func TestRejectedUsersKeepTheirState(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"batch_size": 10, "concurrency": 1})
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultMinorErrors, Indexes: []int{3, 7}, Every: 2, Message: "invalid"})
	first := diffRun(t, spec, users(40, plainName, plainScore))
	if first.Rejected() == 0 || first.UsersSent+first.Rejected() != 40 {
		t.Fatalf("first run: %d rejected, %d sent", first.Rejected(), first.UsersSent)
	}
	emu.SetFaults()
	before := emu.Stats().ObjectsReceived
	second := diffRun(t, spec, users(40, plainName, plainScore))
	if second.UsersSent != first.Rejected() || second.RowsUnchanged != first.UsersSent ||
		emu.Stats().ObjectsReceived-before != first.Rejected() {
		t.Fatalf("second run: %d sent (want the %d rejected), %d unchanged, %d objects", second.UsersSent,
			first.Rejected(), second.RowsUnchanged, emu.Stats().ObjectsReceived-before)
	}
}

// TestFailedRequestsCommitNothing: a run whose requests all fail records nothing, so the next run
// sends everyone.
func TestFailedRequestsCommitNothing(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"max_attempts": 1})
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultStatus, Status: 500, After: 1}) // after the key check
	rec := usersRecord("users", users(50, plainName, plainScore))
	defer rec.Release()
	run(t, spec, zerolog.Nop(), []arrow.Record{rec})
	emu.SetFaults()
	if rep := diffRun(t, spec, users(50, plainName, plainScore)); rep.UsersSent != 50 {
		t.Fatalf("after a failed run, %d of 50 users sent", rep.UsersSent)
	}
}

// TestDuplicatesAcrossTheRun: a user seen again later in the run (outside the merge window) is
// diffed against what the run already sent: an equal row sends nothing, a different one sends only
// the difference, and the last row wins.
func TestDuplicatesAcrossTheRun(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"batch_size": 5})
	// Slow answers keep the first rows' requests in flight while their users come back, so the
	// later rows are diffed against what the run has sent but Braze has not yet answered.
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 20 * time.Millisecond, After: 1})
	rows := users(40, plainName, plainScore)
	rows = append(rows,
		userRow{ID: str("u0001"), Name: str("n1"), Score: num(1)},   // equal: nothing to send
		userRow{ID: str("u0002"), Name: str("n2"), Score: num(222)}, // score changed: score only
	)
	rows = append(rows, users(40, func(i int) string { return plainName(i + 100) }, plainScore)[10:]...)
	rows = append(rows, userRow{ID: str("u0002"), Name: str("n2"), Score: num(2)}) // back again: last wins
	rep := diffRun(t, spec, rows)
	if rep.RowsUnchanged != 1 {
		t.Errorf("rows unchanged %d, want 1 (the equal duplicate)", rep.RowsUnchanged)
	}
	p, _ := emu.Profile("u0002")
	if fmt.Sprint(p.Custom["score"]) != "2" {
		t.Errorf("u0002 score %v, want the last row's 2", p.Custom["score"])
	}
	for i := 10; i < 40; i++ {
		if p, _ := emu.Profile(fmt.Sprintf("u%04d", i)); p.Custom["name"] != plainName(i+100) {
			t.Fatalf("u%04d name %v, want the later row's", i, p.Custom["name"])
		}
	}
}

// TestRefreshAfterResendsOldAttributes: attributes sent longer ago than refresh_after are sent
// again; younger ones are not.
func TestRefreshAfterResendsOldAttributes(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"refresh_after": "1h"})
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	diffRun(t, spec, users(20, plainName, plainScore), WithClock(clock))
	now = now.Add(30 * time.Minute)
	if rep := diffRun(t, spec, users(20, plainName, plainScore), WithClock(clock)); rep.UsersSent != 0 {
		t.Fatalf("within refresh_after: %d users sent", rep.UsersSent)
	}
	now = now.Add(time.Hour)
	before := emu.Stats().DataPoints
	rep := diffRun(t, spec, users(20, plainName, plainScore), WithClock(clock))
	if rep.UsersSent != 20 || emu.Stats().DataPoints-before != 60 {
		t.Fatalf("past refresh_after: %d users, %d data points; want 20 users, 60 (2 attributes + flag each)",
			rep.UsersSent, emu.Stats().DataPoints-before)
	}
}

// TestFullRefreshSendsEverything: full_refresh ignores the state, and the state it leaves behind
// still lets the next normal run send nothing.
func TestFullRefreshSendsEverything(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), nil)
	diffRun(t, spec, users(30, plainName, plainScore))
	full := *spec
	full.FullRefresh = true
	if rep := diffRun(t, &full, users(30, plainName, plainScore)); rep.UsersSent != 30 || rep.RowsUnchanged != 0 {
		t.Fatalf("full refresh: %d sent, %d unchanged", rep.UsersSent, rep.RowsUnchanged)
	}
	if rep := diffRun(t, spec, users(30, plainName, plainScore)); rep.UsersSent != 0 {
		t.Fatalf("after a full refresh: %d sent", rep.UsersSent)
	}
}

// TestDryRunShowsTheDiffedPlanAndCommitsNothing: a dry run writes only what changed and leaves the
// state as it was, so the real run after it still sends the change.
func TestDryRunShowsTheDiffedPlanAndCommitsNothing(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), nil)
	diffRun(t, spec, users(30, plainName, plainScore))
	changed := func(i int) int64 { return int64(i) + int64(i%10/9)*500 } // users 9, 19, 29
	dry := *spec
	dry.DryRun, dry.DryRunFile = true, filepath.Join(t.TempDir(), "plan.jsonl")
	rep := diffRun(t, &dry, users(30, plainName, changed))
	plan, _ := os.ReadFile(dry.DryRunFile)
	if rep.RowsUnchanged != 27 || rep.EstimatedDataPoints != 3 || strings.Count(string(plan), `"external_id"`) != 3 ||
		strings.Contains(string(plan), `"name"`) {
		t.Fatalf("plan: %d unchanged, %d data points\n%s", rep.RowsUnchanged, rep.EstimatedDataPoints, plan)
	}
	if real := diffRun(t, spec, users(30, plainName, changed)); real.UsersSent != 3 {
		t.Fatalf("the real run after the dry run sent %d users, want 3", real.UsersSent)
	}
}

// TestStateHoldsNoSecretsOrValues: no file under state_dir holds the API key or an attribute value.
func TestStateHoldsNoSecretsOrValues(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), nil)
	diffRun(t, spec, users(50, func(i int) string { return fmt.Sprintf("SECRETNAME-%d", i) }, plainScore))
	err := filepath.Walk(spec.StateDir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), testKey) || strings.Contains(string(b), "SECRETNAME") {
			t.Errorf("%s holds the API key or a value", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStateFolderInUseFailsBeforeAnyRequest: a writer whose state folder is held fails in
// NewWriter, as a configuration error, before anything is sent.
func TestStateFolderInUseFailsBeforeAnyRequest(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), nil)
	damaged := filepath.Join(t.TempDir(), "state")
	os.MkdirAll(damaged, 0o700)
	os.WriteFile(filepath.Join(damaged, "000001.sst"), []byte("junk"), 0o600)
	spec.StateDir = damaged
	_, err := NewWriter(context.Background(), spec, zerolog.Nop())
	if err == nil || !IsConfigError(err) || !strings.Contains(err.Error(), damaged) {
		t.Fatalf("NewWriter on a damaged folder: %v", err)
	}
	if emu.Stats().Requests != 0 {
		t.Errorf("%d requests before the state was checked", emu.Stats().Requests)
	}
	_ = state.ErrCorrupt
}

// TestDuplicatesAcrossViewRenewals: users seen again after the state view was renewed (more than
// viewRows rows later) are diffed against what the run committed: the equal half sends nothing,
// the changed half sends once more, and Braze ends with the later values.
func TestDuplicatesAcrossViewRenewals(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{RateLimit: -1})
	spec := testSpec(t, emu.URL(), map[string]any{"rate_limit": -1})
	n := viewRows + 1000
	second := func(i int) int64 {
		if i%2 == 0 {
			return int64(i) + 7
		}
		return int64(i)
	}
	rows := append(users(n, plainName, plainScore), users(n, plainName, second)...)
	rep := diffRun(t, spec, rows)
	if rep.UsersSent != int64(n+n/2) || rep.RowsUnchanged != int64(n/2) {
		t.Fatalf("sent %d, unchanged %d; want %d and %d", rep.UsersSent, rep.RowsUnchanged, n+n/2, n/2)
	}
	for _, i := range []int{0, 1, n / 2, n - 2, n - 1} {
		p, _ := emu.Profile(fmt.Sprintf("u%04d", i))
		if fmt.Sprint(p.Custom["score"]) != fmt.Sprint(second(i)) {
			t.Errorf("u%04d score %v, want %d", i, p.Custom["score"], second(i))
		}
	}
	if again := diffRun(t, spec, users(n, plainName, second)); again.UsersSent != 0 {
		t.Errorf("the state lost the later values: %d users sent again", again.UsersSent)
	}
}

// TestPendingStaysBoundedOnAFirstSync: a first sync of distinct users, whose rows are mostly not
// looked up at all (freshfilter.go), still renews its view and drops the entries the view sees,
// so the run's memory does not grow with its users.
func TestPendingStaysBoundedOnAFirstSync(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{RateLimit: -1})
	spec := testSpec(t, emu.URL(), map[string]any{"rate_limit": -1})
	rec := usersRecord("users", users(5*viewRows, plainName, plainScore))
	defer rec.Release()
	ctx := t.Context()
	w, err := NewWriter(ctx, spec, zerolog.Nop(), WithRetryPolicy(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if len(w.diffs) != 1 {
		t.Fatalf("%d namespaces, want 1", len(w.diffs))
	}
	for _, d := range w.diffs {
		if d.fresh == nil {
			t.Error("an empty namespace was not taken for one")
		}
		if n := d.pending.len(); n > 3*viewRows {
			t.Errorf("%d pending entries after %d distinct users, want at most %d", n, 5*viewRows, 3*viewRows)
		}
	}
	if _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

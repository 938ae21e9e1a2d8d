package destination

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
)

// mirrorRun writes rows of table "users", ends the table with DeleteStale (refused with why when
// why is set) and closes the writer. before runs after the rows are written, before Close.
func mirrorWrite(t *testing.T, spec *Spec, rows []userRow, why string, before func(w *Writer)) (*report.Report, error) {
	t.Helper()
	ctx := t.Context()
	w, err := NewWriter(ctx, spec, zerolog.Nop(), WithRetryPolicy(fastRetry))
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	if len(rows) > 0 {
		rec := usersRecord("users", rows)
		defer rec.Release()
		if err := w.Write(ctx, rec); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if why != "" {
		w.RefuseRemovals("users", why)
	} else {
		w.DeleteStale("users")
	}
	if before != nil {
		before(w)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := w.Close(cctx)
	if !rep.Balanced() {
		t.Fatalf("report does not add up: %+v", rep)
	}
	return rep, err
}

// without drops every user whose index gone returns true.
func without(rows []userRow, gone func(i int) bool) []userRow {
	var out []userRow
	for i, r := range rows {
		if !gone(i) {
			out = append(out, r)
		}
	}
	return out
}

func labelsOf(p brazeemu.Profile, attr string) []string {
	var out []string
	vs, _ := p.Custom[attr].([]any)
	for _, v := range vs {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func tenth(i int) bool { return i%10 == 3 }

// TestMirrorRemovesTheLabelFromUsersWhoLeft: the second run's DeleteStale takes the label from
// exactly the users it did not return, leaves their other attributes, sends one object per
// departure, and records it, so a third identical run sends nothing.
func TestMirrorRemovesTheLabelFromUsersWhoLeft(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"export_value": "VIP"})
	all := users(200, plainName, plainScore)
	if rep, err := mirrorWrite(t, spec, all, "", nil); err != nil || rep.UsersRemoved != 0 {
		t.Fatalf("first run on an empty state: removed %d, %v", rep.UsersRemoved, err)
	}
	before := emu.Stats().ObjectsReceived
	rep, err := mirrorWrite(t, spec, without(all, tenth), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.UsersRemoved != 20 || emu.Stats().ObjectsReceived-before != 20 || rep.UsersSent != 0 {
		t.Fatalf("removed %d, objects +%d, sent %d; want 20 removals and nothing else",
			rep.UsersRemoved, emu.Stats().ObjectsReceived-before, rep.UsersSent)
	}
	for i := range all {
		p, _ := emu.Profile(fmt.Sprintf("u%04d", i))
		flagged := slices.Contains(labelsOf(p, "looker_export"), "VIP")
		if flagged == tenth(i) || p.Custom["name"] != plainName(i) || fmt.Sprint(p.Custom["score"]) != fmt.Sprint(i) {
			t.Fatalf("user %d (left: %v): %v", i, tenth(i), p.Custom)
		}
	}
	before = emu.Stats().ObjectsReceived
	if rep, err := mirrorWrite(t, spec, without(all, tenth), "", nil); err != nil || rep.UsersRemoved != 0 ||
		emu.Stats().ObjectsReceived != before {
		t.Fatalf("identical third run: removed %d, objects +%d, %v", rep.UsersRemoved, emu.Stats().ObjectsReceived-before, err)
	}
	// A user who comes back is flagged again.
	rep, err = mirrorWrite(t, spec, all, "", nil)
	if p, _ := emu.Profile("u0003"); err != nil || rep.UsersSent != 20 || !slices.Contains(labelsOf(p, "looker_export"), "VIP") {
		t.Fatalf("users back: sent %d, u0003 %v, %v", rep.UsersSent, p.Custom, err)
	}
}

// TestMirrorOnLeaveUnsetNullsTheTablesAttributes: with on_leave unset the departed users lose the
// attributes the table sent them too; the others keep theirs.
func TestMirrorOnLeaveUnsetNullsTheTablesAttributes(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"export_value": "VIP", "on_leave": "unset"})
	all := users(50, plainName, plainScore)
	mirrorWrite(t, spec, all, "", nil)
	rep, err := mirrorWrite(t, spec, without(all, tenth), "", nil)
	if err != nil || rep.UsersRemoved != 5 {
		t.Fatalf("removed %d, %v", rep.UsersRemoved, err)
	}
	for i := range all {
		p, _ := emu.Profile(fmt.Sprintf("u%04d", i))
		_, hasName := p.Custom["name"]
		if tenth(i) == hasName || tenth(i) == slices.Contains(labelsOf(p, "looker_export"), "VIP") {
			t.Fatalf("user %d (left: %v): %v", i, tenth(i), p.Custom)
		}
	}
	// Back with the same values: the state recorded the nulls, so the values are sent again.
	rep, _ = mirrorWrite(t, spec, all, "", nil)
	if p, _ := emu.Profile("u0013"); rep.UsersSent != 5 || p.Custom["name"] != plainName(13) {
		t.Fatalf("back: sent %d, u0013 %v", rep.UsersSent, p.Custom)
	}
}

// TestMirrorRatioGuardRemovesNobody: a run that would remove more than max_removal_ratio of the
// flagged users removes none and fails with both numbers and the fix; allow_mass_removal lifts it.
func TestMirrorRatioGuardRemovesNobody(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"export_value": "VIP"})
	all := users(100, plainName, plainScore)
	mirrorWrite(t, spec, all, "", nil)
	kept := all[:40]
	before := emu.Stats().ObjectsReceived
	rep, err := mirrorWrite(t, spec, kept, "", nil)
	if !errors.Is(err, ErrRemovalRefused) || !strings.Contains(err.Error(), "60 of the 100") ||
		!strings.Contains(err.Error(), "--allow-mass-removal") || !strings.Contains(err.Error(), "max_removal_ratio 0.5") {
		t.Fatalf("error %v", err)
	}
	if rep.UsersRemoved != 0 || rep.RemovalsRefused[GuardRatio] != 60 || emu.Stats().ObjectsReceived != before {
		t.Fatalf("removed %d, refused %v, objects +%d", rep.UsersRemoved, rep.RemovalsRefused, emu.Stats().ObjectsReceived-before)
	}
	allow := *spec
	allow.AllowMassRemoval = true
	if rep, err := mirrorWrite(t, &allow, kept, "", nil); err != nil || rep.UsersRemoved != 60 {
		t.Fatalf("allow_mass_removal: removed %d, %v", rep.UsersRemoved, err)
	}
}

// TestMirrorGuardsOfTheRun: a source error the host reports, a run over max_rejected_rows and a
// cancelled run each remove nobody and count the users spared under their guard.
func TestMirrorGuardsOfTheRun(t *testing.T) {
	cases := []struct {
		name   string
		extra  map[string]any
		why    string
		rows   func([]userRow) []userRow
		before func(w *Writer)
		guard  string
		is     error
	}{
		{name: "source error", why: GuardSourceError, guard: GuardSourceError, is: ErrRemovalRefused},
		{name: "max rejected", extra: map[string]any{"max_rejected_rows": 0}, guard: GuardMaxRejected, is: ErrTooManyRejected,
			rows: func(r []userRow) []userRow { return append(r, userRow{ID: str("bad\x01key")}) }},
		{name: "cancelled", before: func(w *Writer) { w.Drain() }, guard: GuardCancelled, is: context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			emu := startEmu(t, brazeemu.Options{})
			spec := testSpec(t, emu.URL(), c.extra)
			all := users(100, plainName, plainScore)
			mirrorWrite(t, spec, all, "", nil)
			rows := without(all, tenth)
			if c.rows != nil {
				rows = c.rows(rows)
			}
			rep, err := mirrorWrite(t, spec, rows, c.why, c.before)
			if !errors.Is(err, c.is) || rep.UsersRemoved != 0 || rep.RemovalsRefused[c.guard] != 10 {
				t.Fatalf("err %v, removed %d, refused %v", err, rep.UsersRemoved, rep.RemovalsRefused)
			}
			if !strings.Contains(strings.Join(rep.Notes, "\n"), "stays on 10 users") {
				t.Errorf("notes do not say why: %q", rep.Notes)
			}
			for i := range all {
				if p, _ := emu.Profile(fmt.Sprintf("u%04d", i)); len(labelsOf(p, "looker_export")) != 1 {
					t.Fatalf("user %d lost the label: %v", i, p.Custom)
				}
			}
		})
	}
}

// TestMirrorRemovalRejectedByBraze: a removal Braze lists in errors[] is dead-lettered as a removal
// with Braze's reason and stays recorded as flagged, so the next run removes it.
func TestMirrorRemovalRejectedByBraze(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"concurrency": 1})
	all := users(100, plainName, plainScore)
	mirrorWrite(t, spec, all, "", nil)
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultMinorErrors, Indexes: []int{2, 5}, After: 1, Message: "invalid"})
	rep, err := mirrorWrite(t, spec, without(all, tenth), "", nil)
	emu.SetFaults()
	if err != nil || rep.UsersRemoved != 8 || rep.RemovalsRejected[ReasonMinorError] != 2 {
		t.Fatalf("removed %d, rejected %v, %v", rep.UsersRemoved, rep.RemovalsRejected, err)
	}
	var removals []DeadLetterLine
	for _, l := range readDeadLetters(t, spec.DeadLetterFile) {
		if l.Removal {
			removals = append(removals, l)
		}
	}
	if len(removals) != 2 || removals[0].Row != -1 || !strings.Contains(string(removals[0].Attributes), `"remove":["LOOKER_EXPORT"]`) {
		t.Fatalf("dead letters: %+v", removals)
	}
	if rep, err := mirrorWrite(t, spec, without(all, tenth), "", nil); err != nil || rep.UsersRemoved != 2 {
		t.Fatalf("next run: removed %d, %v", rep.UsersRemoved, err)
	}
}

// TestMirrorDryRunListsPlannedRemovals: a dry run writes the removals to dry_run_file, counts them
// as planned, and changes neither Braze nor the state.
func TestMirrorDryRunListsPlannedRemovals(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), nil)
	all := users(60, plainName, plainScore)
	mirrorWrite(t, spec, all, "", nil)
	dry := *spec
	dry.DryRun, dry.DryRunFile = true, filepath.Join(t.TempDir(), "plan.jsonl")
	rep, err := mirrorWrite(t, &dry, without(all, tenth), "", nil)
	plan, _ := os.ReadFile(dry.DryRunFile)
	if err != nil || rep.RemovalsPlanned != 6 || rep.UsersRemoved != 0 || strings.Count(string(plan), `"remove":["LOOKER_EXPORT"]`) != 6 ||
		!strings.Contains(string(plan), `"external_id":"u0013"`) {
		t.Fatalf("dry run: planned %d, %v\n%s", rep.RemovalsPlanned, err, plan)
	}
	if rep, _ := mirrorWrite(t, spec, without(all, tenth), "", nil); rep.UsersRemoved != 6 {
		t.Fatalf("the real run after the dry run removed %d", rep.UsersRemoved)
	}
}

// TestMirrorTableWithNoRowsIsAMassRemoval: a table that ended without a single row would remove
// everyone: the ratio guard refuses it.
func TestMirrorTableWithNoRowsIsAMassRemoval(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), nil)
	mirrorWrite(t, spec, users(30, plainName, plainScore), "", nil)
	rep, err := mirrorWrite(t, spec, nil, "", nil)
	if !errors.Is(err, ErrRemovalRefused) || rep.RemovalsRefused[GuardRatio] != 30 {
		t.Fatalf("refused %v, %v", rep.RemovalsRefused, err)
	}
}

// TestMirrorLabelChange: after export_value changes, mirror mode takes the old label from everyone
// who carries it (seen or not), and forgets the old label's state; with on_label_change keep_old
// the old label stays.
func TestMirrorLabelChange(t *testing.T) {
	for _, policy := range []string{OnLabelChangeRemove, OnLabelChangeKeep} {
		t.Run(policy, func(t *testing.T) {
			emu := startEmu(t, brazeemu.Options{})
			q3 := testSpec(t, emu.URL(), map[string]any{"export_value": "VIP_Q3", "on_label_change": policy})
			all := users(40, plainName, plainScore)
			mirrorWrite(t, q3, all, "", nil)
			q4 := *q3
			q4.ExportValue = "VIP_Q4"
			rep, err := mirrorWrite(t, &q4, without(all, tenth), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			remove := policy == OnLabelChangeRemove
			if want := map[bool]int64{true: 40, false: 0}[remove]; rep.UsersRemoved != want {
				t.Fatalf("removed %d, want %d", rep.UsersRemoved, want)
			}
			for i := range all {
				p, _ := emu.Profile(fmt.Sprintf("u%04d", i))
				labels := labelsOf(p, "looker_export")
				if slices.Contains(labels, "VIP_Q3") == remove || slices.Contains(labels, "VIP_Q4") == tenth(i) {
					t.Fatalf("user %d (left: %v): %v", i, tenth(i), labels)
				}
			}
			st, err := state.Open(q3.StateDir, state.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			infos, _ := st.Namespaces(t.Context())
			var values []string
			for _, info := range infos {
				values = append(values, info.Namespace.ExportValue)
			}
			if slices.Contains(values, "VIP_Q3") == remove {
				t.Errorf("namespaces after the change: %v", values)
			}
		})
	}
}

// TestMirrorAppendNeverRemoves: without DeleteStale (write_mode append) nobody is removed.
func TestMirrorAppendNeverRemoves(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), nil)
	all := users(30, plainName, plainScore)
	diffRun(t, spec, all)
	if rep := diffRun(t, spec, without(all, tenth)); rep.UsersRemoved != 0 {
		t.Fatalf("append removed %d", rep.UsersRemoved)
	}
	_ = arrow.Record(nil)
}

// TestMirrorSpecFields: defaults and the field named in each error.
func TestMirrorSpecFields(t *testing.T) {
	s := testSpec(t, "https://rest.iad-01.braze.com", nil)
	if s.OnLeave != OnLeaveUnflag || *s.MaxRemovalRatio != 0.5 || s.OnLabelChange != OnLabelChangeRemove || s.AllowMassRemoval {
		t.Fatalf("defaults: %q %v %q %v", s.OnLeave, *s.MaxRemovalRatio, s.OnLabelChange, s.AllowMassRemoval)
	}
	for field, v := range map[string]any{"on_leave": "delete", "max_removal_ratio": 1.5, "on_label_change": "drop"} {
		_, err := ParseSpec([]byte(fmt.Sprintf(`{"api_key":"k","endpoint":"https://rest.iad-01.braze.com","%s":%q}`, field, fmt.Sprint(v))))
		if field == "max_removal_ratio" {
			_, err = ParseSpec([]byte(`{"api_key":"k","endpoint":"https://rest.iad-01.braze.com","max_removal_ratio":1.5}`))
		}
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s=%v: %v", field, v, err)
		}
	}
}

// TestMirrorWithWarehouseStateNeedsTheMirrorField: with state.backend snowflake the Snowflake
// source may hold unchanged users back, so removals are refused unless the spec says it mirrors
// (which makes the source read every row). The backend is switched after the writer opened, so the
// test needs no warehouse: only the guard reads it.
func TestMirrorWithWarehouseStateNeedsTheMirrorField(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	all := users(40, plainName, plainScore)
	for _, mirror := range []bool{false, true} {
		spec := testSpec(t, emu.URL(), map[string]any{"export_value": fmt.Sprint("W", mirror), "mirror": mirror})
		mirrorWrite(t, spec, all, "", nil)
		warehouse := func(w *Writer) { w.spec.State.Backend = BackendSnowflake }
		rep, err := mirrorWrite(t, spec, without(all, tenth), "", warehouse)
		if mirror && (err != nil || rep.UsersRemoved != 4) || !mirror && (!errors.Is(err, ErrRemovalRefused) || rep.RemovalsRefused[GuardPushdown] != 4) {
			t.Fatalf("mirror %v: removed %d, refused %v, %v", mirror, rep.UsersRemoved, rep.RemovalsRefused, err)
		}
	}
}

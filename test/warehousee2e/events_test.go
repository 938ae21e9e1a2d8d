package warehousee2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/test/testbin"
)

// eventsQuery is one custom event per row, its identity the EVENT_ID column.
const eventsQuery = `SELECT USER_ID AS EXTERNAL_ID, EVENT_ID, PLAN FROM WH_EVENTS`

// eventsTable maps the events query (destination spec lines).
var eventsTable = []string{"tables:", "  activity:", "    kind: events", "    name: visited", "    id_column: EVENT_ID",
	"    properties: {PLAN: plan}"}

// addEvents creates WH_EVENTS with n events of the world's users: event i is "e<i>", plan p<i>.
func (w *world) addEvents(n int) {
	w.t.Helper()
	ctx := context.Background()
	if err := w.sf.Catalog().CreateTable(ctx, "WH_EVENTS", []snowflakeemu.ColumnDef{
		{Name: "USER_ID", Type: "VARCHAR"}, {Name: "EVENT_ID", Type: "VARCHAR"}, {Name: "PLAN", Type: "VARCHAR"}}); err != nil {
		w.t.Fatal(err)
	}
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("wh_%05d", i%w.users), fmt.Sprintf("e%d", i), fmt.Sprintf("p%d", i)}
	}
	if err := w.sf.Catalog().Insert(ctx, "WH_EVENTS", rows); err != nil {
		w.t.Fatal(err)
	}
}

// eventsSpec syncs the events query with the state in the warehouse; extra lines go into the
// destination's spec.
func (w *world) eventsSpec(extra ...string) string {
	lines := append(append(w.stateLines(), eventsTable...), extra...)
	return testbin.Spec(testbin.SnowflakeSource(w.source(snowflake.Query{Name: "activity", SQL: eventsQuery})),
		testbin.BrazeDestination("VIP", lines...))
}

// landed counts Braze's recorded events by plan property (one plan per source row).
func (w *world) landed() map[string]int {
	got := map[string]int{}
	for _, ev := range w.braze.Events() {
		plan, _ := ev.Properties["plan"].(string)
		got[plan]++
	}
	return got
}

// TestEventsOnceFromAnyMachine: events sent from one folder are not sent again from another, each
// with an empty state_dir: the identities live in Snowflake.
func TestEventsOnceFromAnyMachine(t *testing.T) {
	const n = 400
	w := newWorld(t, 50)
	w.addEvents(n)
	first := w.mustSync(w.eventsSpec())
	if first.Report.EventsSent != n {
		t.Fatalf("first run sent %d events, want %d:\n%s", first.Report.EventsSent, n, first.Report.Summary())
	}
	second := w.mustSync(w.eventsSpec())
	if second.Report.EventsSent != 0 || second.Report.RowsSkipped["event_already_sent"] != n {
		t.Fatalf("a run from another folder sent %d events, skipped %d as sent, want 0 and %d:\n%s",
			second.Report.EventsSent, second.Report.RowsSkipped["event_already_sent"], n, second.Report.Summary())
	}
	got := w.landed()
	for i := range n {
		if c := got[fmt.Sprintf("p%d", i)]; c != 1 {
			t.Fatalf("event e%d recorded %d times, want once", i, c)
		}
	}

	// state show, from a third machine, counts the identities the warehouse holds.
	out, code := w.cliSpec(w.eventsSpec(), "state", "show", "--format", "json")
	var shown []struct {
		Tables []struct {
			Events *struct {
				Sent int64 `json:"sent"`
			} `json:"events"`
		} `json:"tables"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || code != 0 || len(shown) != 1 || len(shown[0].Tables) != 1 ||
		shown[0].Tables[0].Events == nil || shown[0].Tables[0].Events.Sent != n {
		t.Fatalf("state show does not count %d sent identities (exit %d, %v):\n%s", n, code, err, out)
	}
	// The text names the run that sent them (the second committed nothing), not the show itself.
	text, _ := w.cliSpec(w.eventsSpec(), "state", "show")
	if want := fmt.Sprintf("event identities: %d sent, 0 may be recorded, 0 interrupted; last run %s;", n, first.Report.RunID); !strings.Contains(text, want) {
		t.Errorf("state show (text) does not say %q:\n%s", want, text)
	}
}

// TestKilledRunsEventsNeverTwice: a run killed with SIGKILL on a machine whose disk goes with it,
// then a run from another folder: every event is in Braze once, or in the dead-letter file as
// possibly recorded (those the killed run had on the wire or heard answered in its last few
// seconds) — never twice, never lost; what the killed run reported to the warehouse as accepted
// is skipped as sent.
func TestKilledRunsEventsNeverTwice(t *testing.T) {
	const n = 600
	w := newWorld(t, 50)
	w.addEvents(n)
	// Some requests are applied and answered late, so the kill finds some on the wire.
	w.braze.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultHangAfter, Delay: 300e6, Probability: 0.2, Seed: 3, After: 1})
	killed := w.start(w.eventsSpec(paced...))
	w.waitFor("the killed run to report accepted events to the warehouse", func() bool { return w.settledDuringRun() > 0 })
	known := w.settledDuringRun()
	if err := killed.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-killed.exited
	w.braze.SetFaults()
	atKill := len(w.braze.Events())
	if atKill >= n {
		t.Fatalf("the killed run finished before the kill (%d events)", atKill)
	}

	w.sf.Advance(lockTimeout + 1e9)
	res := w.mustSync(w.eventsSpec())
	deadLettered := map[string]bool{}
	lines, err := destination.ReadDeadLetters(filepath.Join(res.Dir, "dead.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.Reason != destination.ReasonMayHaveRecorded {
			t.Fatalf("dead letter %+v: want only %s", l, destination.ReasonMayHaveRecorded)
		}
		var obj struct {
			Properties map[string]string `json:"properties"`
		}
		if err := json.Unmarshal(l.Object, &obj); err != nil {
			t.Fatal(err)
		}
		deadLettered[obj.Properties["plan"]] = true
	}
	got := w.landed()
	for i := range n {
		p := fmt.Sprintf("p%d", i)
		switch c := got[p]; {
		case c > 1:
			t.Fatalf("event e%d recorded %d times", i, c)
		case c == 0 && !deadLettered[p]:
			t.Fatalf("event e%d lost: neither in Braze nor in the dead-letter file", i)
		}
	}
	rep := res.Report
	if sum := rep.EventsSent + rep.RowsSkipped["event_already_sent"] + rep.RowsRejected[destination.ReasonMayHaveRecorded]; sum != n {
		t.Errorf("the run after the kill accounts for %d events, want %d:\n%s", sum, n, rep.Summary())
	}
	if skipped := rep.RowsSkipped["event_already_sent"]; skipped < int64(known) {
		t.Errorf("%d events skipped as sent, want at least the %d the killed run reported accepted", skipped, known)
	}
	t.Logf("killed with %d events in Braze, %d reported accepted to the warehouse; the next run dead-lettered %d, sent %d",
		atKill, known, len(lines), rep.EventsSent)
}

// settledDuringRun counts the event identities a run has reported accepted to the warehouse and
// not yet committed in a version.
func (w *world) settledDuringRun() int {
	w.t.Helper()
	var n int
	err := w.sf.DB().QueryRow(`SELECT count(*) FROM "BRAZESYNC.BRAZESYNC_EVENTS" WHERE VERSION = 0 AND STATUS = 2`).Scan(&n)
	switch {
	case err != nil && strings.Contains(err.Error(), "no such table"): // the run has not created it yet
	case err != nil:
		w.t.Fatal(err)
	}
	return n
}

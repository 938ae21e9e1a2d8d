package eventse2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/testbin"
)

const (
	nEvents    = 50_000
	nPurchases = 20_000
	nUsers     = 5_000
)

// TestOnceThroughTheBinaries: 50,000 event rows and 20,000 purchase rows land in Braze exactly
// once each, field by field; the same sync run again sends nothing.
func TestOnceThroughTheBinaries(t *testing.T) {
	now := time.Now()
	events, purchases := genEvents(nEvents, nUsers, now), genPurchases(nPurchases, nUsers, now)
	data := dataFiles(t, events, purchases)
	stateDir := filepath.Join(t.TempDir(), "state")
	emu := startBraze(t)

	res := sync(t, emu, specFor(data, stateDir, "rate_limit: -1"), 0)
	rep := res.Report
	if rep.EventsSent != nEvents || rep.PurchasesSent != nPurchases || rep.Rejected() != 0 || rep.UsersSent != 0 {
		t.Fatalf("first run: %d events, %d purchases, %d rejected, %d users sent\n%s",
			rep.EventsSent, rep.PurchasesSent, rep.Rejected(), rep.UsersSent, rep.Summary())
	}
	checkLandedExactly(t, emu, events, purchases)
	t.Logf("first run:\n%s", rep.Summary())

	requests := emu.Stats().Requests
	res2 := sync(t, emu, specFor(data, stateDir, "rate_limit: -1"), 0)
	rep2 := res2.Report
	if rep2.EventsSent != 0 || rep2.PurchasesSent != 0 || rep2.RowsSkipped["event_already_sent"] != nEvents+nPurchases {
		t.Fatalf("second run sent again:\n%s", rep2.Summary())
	}
	if got := emu.Stats().Requests - requests; got != 1 {
		t.Errorf("second run made %d requests, want only the key check", got)
	}
	checkLandedExactly(t, emu, events, purchases)
}

// checkLandedExactly compares every recorded event and purchase with its row: each row once, each
// field its own.
func checkLandedExactly(t *testing.T, emu *brazeemu.Emulator, events []eventRow, purchases []purchaseRow) {
	t.Helper()
	evs := emu.Events()
	if len(evs) != len(events) {
		t.Fatalf("%d events recorded, want %d", len(evs), len(events))
	}
	seen := make([]bool, len(events))
	for _, ev := range evs {
		s := seqOf(ev)
		if s < 0 || s >= int64(len(events)) || seen[s] {
			t.Fatalf("event with seq %d: unknown or recorded twice", s)
		}
		seen[s] = true
		if d := checkEvent(ev, events[s]); d != "" {
			t.Fatalf("event %d: %s", s, d)
		}
	}
	pus := emu.Purchases()
	if len(pus) != len(purchases) {
		t.Fatalf("%d purchases recorded, want %d", len(pus), len(purchases))
	}
	seenP := make([]bool, len(purchases))
	for _, pu := range pus {
		i := lineOf(pu) - purchases[0].line
		if i < 0 || i >= int64(len(purchases)) || seenP[i] {
			t.Fatalf("purchase of line %d: unknown or recorded twice", lineOf(pu))
		}
		seenP[i] = true
		if d := checkPurchase(pu, purchases[i]); d != "" {
			t.Fatalf("purchase %d: %s", lineOf(pu), d)
		}
	}
}

// TestKilledRunNeverTwice: a paced run is killed with SIGKILL (brazesync and its plugins at once)
// while Braze holds requests it applied but has not answered, then run again. Every event and
// purchase is then in Braze once, except those in flight at the kill, which are in Braze once or
// in the dead-letter file as possibly recorded — never twice. Two kill points: among the events,
// and among the purchases, which the file source reads second.
func TestKilledRunNeverTwice(t *testing.T) {
	now := time.Now()
	events, purchases := genEvents(nEvents, nUsers, now), genPurchases(nPurchases, nUsers, now)
	data := dataFiles(t, events, purchases)
	for _, at := range []int64{(nEvents + nPurchases) / 3, (nEvents + nPurchases) * 5 / 6} {
		t.Run(fmt.Sprintf("after %d", at), func(t *testing.T) { killAndRerun(t, data, at, events, purchases) })
	}
}

func killAndRerun(t *testing.T, data string, at int64, events []eventRow, purchases []purchaseRow) {
	stateDir := filepath.Join(t.TempDir(), "state")
	emu := startBraze(t)
	// A fifth of the requests are applied and then answered late: the kill finds some on the wire.
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultHangAfter, Delay: 300 * time.Millisecond, Probability: 0.2, Seed: 7, After: 1})
	const concurrency, batchSize = 8, 75
	r := start(t, emu, specFor(data, stateDir, "rate_limit: 150", "rate_window: 1s", fmt.Sprintf("concurrency: %d", concurrency)))
	deadline := time.Now().Add(3 * time.Minute)
	for s := emu.Stats(); s.Events+s.Purchases < at; s = emu.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("the run did not get to %d objects: %+v\n%s", at, s, testbin.Tail(r.Stderr.String(), 3000))
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.KillAll()
	r.Wait(t, time.Minute)
	quiesce(emu)
	atKill := emu.Stats()
	emu.SetFaults()

	res := sync(t, emu, specFor(data, stateDir, "rate_limit: -1"), 0)
	ev, pu := landed(emu)
	interrupted := map[string]map[int64]bool{"events": {}, "purchases": {}}
	for _, l := range deadLetters(t, res) {
		if l.Reason != destination.ReasonMayHaveRecorded {
			t.Fatalf("dead letter %+v: want only %s", l, destination.ReasonMayHaveRecorded)
		}
		prop := map[string]string{"events": "seq", "purchases": "line_id"}[l.InputArray]
		interrupted[l.InputArray][objectNumber(t, l, prop)] = true
	}
	n := len(interrupted["events"]) + len(interrupted["purchases"])
	t.Logf("killed with %d events and %d purchases recorded; the re-run dead-lettered %d rows that were on the wire",
		atKill.Events, atKill.Purchases, n)
	if n > concurrency*batchSize {
		t.Errorf("%d rows dead-lettered as interrupted, more than the %d a run can have on the wire", n, concurrency*batchSize)
	}
	for _, r := range events {
		switch c := ev[r.seq]; {
		case c > 1:
			t.Fatalf("event %d recorded %d times", r.seq, c)
		case c == 0 && !interrupted["events"][r.seq]:
			t.Fatalf("event %d lost: neither in Braze nor in the dead-letter file", r.seq)
		}
	}
	for _, r := range purchases {
		switch c := pu[r.line]; {
		case c > 1:
			t.Fatalf("purchase %d recorded %d times", r.line, c)
		case c == 0 && !interrupted["purchases"][r.line]:
			t.Fatalf("purchase %d lost: neither in Braze nor in the dead-letter file", r.line)
		}
	}
	// What landed, field by field.
	for _, e := range emu.Events() {
		if d := checkEvent(e, events[seqOf(e)]); d != "" {
			t.Fatalf("event %d: %s", seqOf(e), d)
		}
	}
	for _, p := range emu.Purchases() {
		if d := checkPurchase(p, purchases[lineOf(p)-purchases[0].line]); d != "" {
			t.Fatalf("purchase %d: %s", lineOf(p), d)
		}
	}
	rep := res.Report
	if got := rep.EventsSent + rep.PurchasesSent + rep.RowsSkipped["event_already_sent"] + rep.RowsRejected[destination.ReasonMayHaveRecorded]; got != nEvents+nPurchases {
		t.Errorf("the re-run accounts for %d rows, want %d:\n%s", got, nEvents+nPurchases, rep.Summary())
	}
}

// TestFaultPolicies runs the same rows through resets after applying, 5xx (applied and not),
// timeouts after applying and 429 bursts, under each on_ambiguous_failure policy: dead_letter never
// records an event twice, retry never loses one, and both reports add up with the ambiguous
// outcomes counted apart.
func TestFaultPolicies(t *testing.T) {
	const ne, np = 10_000, 4_000
	now := time.Now()
	events, purchases := genEvents(ne, 1_000, now), genPurchases(np, 1_000, now)
	data := dataFiles(t, events, purchases)
	faults := []brazeemu.Fault{
		{Kind: brazeemu.FaultRateLimit, After: 20, Count: 10}, // a burst of ten 429s
		{Kind: brazeemu.FaultRateLimit, After: 120, Count: 10},
		{Kind: brazeemu.FaultResetAfter, Probability: 0.03, Seed: 1},
		{Kind: brazeemu.FaultStatusAfter, Status: 500, Probability: 0.03, Seed: 2},
		{Kind: brazeemu.FaultStatus, Status: 503, Probability: 0.03, Seed: 3},
		{Kind: brazeemu.FaultHangAfter, Probability: 0.02, Seed: 4},
		{Kind: brazeemu.FaultResetBefore, Probability: 0.02, Seed: 5},
	}
	for _, policy := range []string{destination.AmbiguousDeadLetter, destination.AmbiguousRetry} {
		t.Run(policy, func(t *testing.T) {
			emu := startBraze(t)
			emu.SetFaults(faults...)
			spec := specFor(data, filepath.Join(t.TempDir(), "state"), "rate_limit: -1", "request_timeout: 1s",
				"max_attempts: 12", "on_ambiguous_failure: "+policy)
			res := sync(t, emu, spec, 0)
			rep := res.Report
			for _, f := range emu.Faults() {
				if f.Fired == 0 {
					t.Errorf("fault %s never fired", f.Kind)
				}
			}
			ev, pu := landed(emu)
			dead := map[string]map[int64]bool{"events": {}, "purchases": {}}
			lines := deadLetters(t, res)
			for _, l := range lines {
				if l.Reason != destination.ReasonMayHaveRecorded || l.Object == nil {
					t.Fatalf("dead letter %+v", l)
				}
				dead[l.InputArray][objectNumber(t, l, map[string]string{"events": "seq", "purchases": "line_id"}[l.InputArray])] = true
			}
			if rep.AmbiguousRequests == 0 {
				t.Fatalf("no ambiguous outcome counted:\n%s", rep.Summary())
			}
			t.Logf("%s: %d ambiguous requests, %d rows; %d dead letters\n%s", policy, rep.AmbiguousRequests, rep.AmbiguousRows, len(lines), rep.Summary())
			twice := 0
			for _, r := range events {
				c := ev[r.seq]
				switch {
				case policy == destination.AmbiguousDeadLetter && c > 1:
					t.Fatalf("dead_letter: event %d recorded %d times", r.seq, c)
				case policy == destination.AmbiguousDeadLetter && c == 0 && !dead["events"][r.seq]:
					t.Fatalf("dead_letter: event %d neither recorded nor dead-lettered", r.seq)
				case policy == destination.AmbiguousRetry && c == 0:
					t.Fatalf("retry: event %d lost", r.seq)
				case c > 1:
					twice += c - 1
				}
			}
			for _, r := range purchases {
				c := pu[r.line]
				switch {
				case policy == destination.AmbiguousDeadLetter && (c > 1 || c == 0 && !dead["purchases"][r.line]):
					t.Fatalf("dead_letter: purchase %d recorded %d times, dead-lettered %v", r.line, c, dead["purchases"][r.line])
				case policy == destination.AmbiguousRetry && c == 0:
					t.Fatalf("retry: purchase %d lost", r.line)
				case c > 1:
					twice += c - 1
				}
			}
			if policy == destination.AmbiguousDeadLetter {
				if int64(len(lines)) != rep.AmbiguousRows || rep.RowsRejected[destination.ReasonMayHaveRecorded] != rep.AmbiguousRows {
					t.Errorf("%d dead letters, %d ambiguous rows counted", len(lines), rep.AmbiguousRows)
				}
				if rep.EventsSent+rep.PurchasesSent+rep.AmbiguousRows != ne+np {
					t.Errorf("sent %d + ambiguous %d != %d rows", rep.EventsSent+rep.PurchasesSent, rep.AmbiguousRows, ne+np)
				}
				return
			}
			if len(lines) != 0 || rep.EventsSent+rep.PurchasesSent != ne+np {
				t.Errorf("retry: %d dead letters, %d sent", len(lines), rep.EventsSent+rep.PurchasesSent)
			}
			if int64(twice) > rep.AmbiguousRows {
				t.Errorf("%d duplicates, more than the %d rows of ambiguous requests", twice, rep.AmbiguousRows)
			}
		})
	}
}

// TestInvalidRowsDeadLettered: a row without a name, with a '$' property, with a bad currency or a
// quantity of 0 goes to the dead-letter file naming its column and reason; every other row lands.
func TestInvalidRowsDeadLettered(t *testing.T) {
	dir := t.TempDir()
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	activity := []string{
		`{"external_id":"u1","EVENT":"signed_up","AT":"` + at + `","PROPS":{"plan":"pro"}}`,
		`{"external_id":"u2","EVENT":null,"AT":"` + at + `","PROPS":{"plan":"pro"}}`,
		`{"external_id":"u3","EVENT":"signed_up","AT":"` + at + `","PROPS":{"$plan":"pro"}}`,
		`{"external_id":"u4","EVENT":"upgraded","AT":"` + at + `","PROPS":{"seats":3}}`,
	}
	orders := []string{
		`{"external_id":"u1","SKU":"A","CURRENCY":"USD","PRICE":9.5,"QTY":1,"AT":"` + at + `"}`,
		`{"external_id":"u2","SKU":"B","CURRENCY":"dollars","PRICE":9.5,"QTY":1,"AT":"` + at + `"}`,
		`{"external_id":"u3","SKU":"C","CURRENCY":"EUR","PRICE":9.5,"QTY":0,"AT":"` + at + `"}`,
		`{"external_id":"u4","SKU":"D","CURRENCY":"eur","PRICE":12,"QTY":100,"AT":"` + at + `"}`,
	}
	must(t, os.WriteFile(filepath.Join(dir, "activity.ndjson"), []byte(strings.Join(activity, "\n")+"\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "orders.ndjson"), []byte(strings.Join(orders, "\n")+"\n"), 0o600))
	src := fmt.Sprintf(`kind: source
spec:
  name: files
  path: {{BIN}}/file-source
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec:
    files:
      - path: %s
        tags: {EVENT: [braze_event], AT: [braze_time], PROPS: [braze_properties]}
      - path: %s
`, filepath.Join(dir, "activity.ndjson"), filepath.Join(dir, "orders.ndjson"))
	dst := testbin.BrazeDestination("E2E", "state_dir: "+filepath.Join(t.TempDir(), "state"), "tables:", "  orders:",
		"    kind: purchases", "    product_id_column: SKU", "    currency_column: CURRENCY", "    price_column: PRICE",
		"    quantity_column: QTY", "    time_column: AT")
	emu := startBraze(t)
	res := sync(t, emu, testbin.Spec(src, dst), 0)

	want := map[string]string{ // table/row -> column/member: reason
		"activity/1": "EVENT/name: event name is null or empty",
		"activity/2": "PROPS/properties: property name is empty, starts with '$', or is reserved (time, event_name)",
		"orders/1":   "CURRENCY/currency: currency is not an ISO 4217 code",
		"orders/2":   "QTY/quantity: quantity must be an integer from 1 to 100",
	}
	lines := deadLetters(t, res)
	if len(lines) != len(want) {
		t.Fatalf("%d dead letters, want %d: %+v", len(lines), len(want), lines)
	}
	for _, l := range lines {
		k := fmt.Sprintf("%s/%d", l.Table, l.Row)
		got := l.Column + "/" + l.Attribute + ": " + l.Detail
		if l.Reason != destination.ReasonInvalidValue || want[k] != got {
			t.Errorf("%s: %s (%s), want %s", k, got, l.Reason, want[k])
		}
		if strings.Contains(string(l.Object)+l.Detail, "$plan") || strings.Contains(l.Detail, "dollars") {
			t.Errorf("%s: a value is in the dead-letter line", k)
		}
	}
	rep := res.Report
	if rep.EventsSent != 2 || rep.PurchasesSent != 2 || rep.RowsRejected[destination.ReasonInvalidValue] != 4 {
		t.Fatalf("report:\n%s", rep.Summary())
	}
	names := map[string]string{}
	for _, e := range emu.Events() {
		names[e.Owner.ExternalID] = e.Name
	}
	if names["u1"] != "signed_up" || names["u4"] != "upgraded" || len(names) != 2 {
		t.Errorf("events landed: %v", names)
	}
	for _, p := range emu.Purchases() {
		if p.Owner.ExternalID == "u4" && (p.Currency != "EUR" || p.Quantity != 100 || p.Price != 12) {
			t.Errorf("purchase %+v", p)
		}
	}
}

package inpute2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestLookerOneQueryPerTable: a Looker sync of a saved Look and an inline query, neither with a
// limit, runs each query exactly once (counted in the Looker emulator's own request log, so
// Looker and its warehouse do the work once) and delivers every row, not Looker's default 5,000
// and 500.
func TestLookerOneQueryPerTable(t *testing.T) {
	const rows = 6200
	o := lookeremu.Seed(rows)
	o.ClientSecret = lookerSecret
	o.Looks = append(o.Looks, lookeremu.Look{ID: 77, Title: "saved without a limit",
		Query: lookeremu.Query{Model: lookeremu.SeedModel, View: lookeremu.SeedView, Fields: []string{"users.external_id", "users.field_1"}}})
	lk := emutest.Looker(t, o)
	src := fmt.Sprintf(`kind: source
spec:
  name: looker
  path: {{BIN}}/looker-source
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec:
    base_url: %q
    client_id: brazesync
    client_secret_env: LOOKER_SECRET
    tables:
      - name: saved
        look_id: 77
      - name: inline
        query:
          model: %s
          view: %s
          fields: [users.external_id, users.field_2]
`, lk.URL(), lookeremu.SeedModel, lookeremu.SeedView)
	braze := emutest.Braze(t, brazeemu.Options{APIKeys: []string{brazeKey}, RateLimit: -1})
	res := testbin.Sync(t, testbin.Spec(src, testbin.BrazeDestination("LOOKER", "rate_limit: -1")),
		testbin.SyncOptions{Env: map[string]string{"BRAZE_API_KEY": brazeKey, "BRAZE_ENDPOINT": braze.URL(), "LOOKER_SECRET": lookerSecret}})
	if res.Code != 0 {
		t.Fatalf("exit %d\n%s", res.Code, testbin.Tail(res.Stderr, 4000))
	}
	var runs []string
	for _, r := range lk.Requests() {
		if strings.Contains(r.Path, "/run/") {
			runs = append(runs, r.Method+" "+r.Path+" limit="+r.Limit)
		}
	}
	if len(runs) != 2 || lk.Stats().QueryRuns != 2 {
		t.Errorf("query runs %v (%d counted), want one per table", runs, lk.Stats().QueryRuns)
	}
	if rep := res.Report; rep.RowsRead != 2*rows || !rep.Balanced() {
		t.Errorf("read %d rows, want %d: every row of both tables", rep.RowsRead, 2*rows)
	}
	if n := len(braze.Profiles()); n != rows {
		t.Errorf("Braze holds %d profiles, want %d", n, rows)
	}
	for i := 0; i < rows; i += 997 {
		p, ok := braze.Profile(fmt.Sprintf("user_%07d", i))
		want := lookeremu.SeedRow(i)
		if !ok || p.Custom["field_1"] != want["users.field_1"] || !sameNumber(fmt.Sprint(want["users.field_2"]), p.Custom["field_2"]) {
			t.Errorf("user %d: %v, want field_1 %v field_2 %v", i, p.Custom, want["users.field_1"], want["users.field_2"])
		}
	}
}

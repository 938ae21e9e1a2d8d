// Package lookere2e runs `brazesync sync` (real binaries, the looker-source
// plugin over the CloudQuery protocol) against the Looker emulator and the
// Braze emulator, and checks Braze's store row by row.
package lookere2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	lookersrc "github.com/brazesync/brazesync/source/looker"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestLookerLookToBrazeRowByRow: a saved Look (typed attributes) and an
// inline query go through looker-source → brazesync → the Braze emulator;
// every seeded row must arrive with each value typed as Braze stores it.
func TestLookerLookToBrazeRowByRow(t *testing.T) {
	const rows = 12_345 // more than one 8,192-row record
	const secret = "looker-e2e-secret-5b1e"
	const apiKey = "e2e-looker-key-77aa"
	opts := lookeremu.Seed(rows)
	opts.ClientSecret = secret
	opts.TokenTTL = 2 * time.Second // expires during the run's life: the source must log in again when needed
	looker := emutest.Looker(t, opts)
	braze := emutest.Braze(t, brazeemu.Options{APIKeys: []string{apiKey}})

	src := testbin.LookerSource(lookersrc.Spec{BaseURL: looker.URL(), ClientID: looker.ClientID(), ClientSecretEnv: "LOOKER_CLIENT_SECRET",
		Tables: []lookersrc.TableSpec{
			{Name: "typed_users", LookID: lookeremu.LookTyped, Limit: "-1"},
			{Name: "scenario_users", Query: &lookersrc.SpecQuery{Model: lookeremu.SeedModel, View: lookeremu.SeedView,
				Fields: []string{"users.external_id", "users.field_1", "users.field_2", "users.untagged"}, Limit: "-1"}},
		}})
	spec := testbin.Spec(src, testbin.BrazeDestination("LOOKER_E2E"))
	res := testbin.Sync(t, spec, testbin.SyncOptions{Env: map[string]string{
		"BRAZE_API_KEY": apiKey, "BRAZE_ENDPOINT": braze.URL(), "LOOKER_CLIENT_SECRET": secret}})
	if res.Code != 0 {
		t.Fatalf("brazesync sync: exit %d\n%s", res.Code, res.Stderr)
	}
	testbin.AssertNoSecret(t, res, secret)
	testbin.AssertNoSecret(t, res, apiKey)
	rep := res.Report
	if rep == nil {
		t.Fatal("no report")
	}
	// Two tables of rows rows each: every row read and delivered.
	if rep.Status != "success" || rep.RowsRead != 2*rows || rep.UsersSent+rep.RowsMerged != 2*rows || !rep.Balanced() {
		t.Fatalf("report: %+v", rep.Report)
	}
	if n := len(braze.Profiles()); n != rows {
		t.Fatalf("Braze holds %d profiles, want %d", n, rows)
	}
	for i := range rows {
		want := lookeremu.SeedRow(i)
		id := want["users.external_id"].(string)
		p, ok := braze.Profile(id)
		if !ok {
			t.Fatalf("row %d: no profile %s", i, id)
		}
		signup, _ := time.Parse(time.DateOnly, want["users.signup_date"].(string))
		seen, _ := time.Parse(time.DateTime, want["users.last_seen_time"].(string))
		checks := map[string][2]any{
			"first_name":     {p.Standard["first_name"], want["users.first_name"]}, // a standard attribute
			"signup_date":    {asTime(p.Custom["signup_date"]), signup},
			"last_seen":      {asTime(p.Custom["last_seen"]), seen},
			"is_vip":         {p.Custom["is_vip"], want["users.is_vip"] == "Yes"},
			"lifetime_value": {p.Custom["lifetime_value"], want["users.lifetime_value"]},
			"field_1":        {p.Custom["field_1"], want["users.field_1"]},
			"field_2":        {fmt.Sprint(p.Custom["field_2"]), fmt.Sprint(want["users.field_2"])},
			"looker_export":  {fmt.Sprint(p.Custom["looker_export"]), "[LOOKER_E2E]"},
		}
		for k, c := range checks {
			if fmt.Sprint(c[0]) != fmt.Sprint(c[1]) {
				t.Fatalf("row %d (%s): %s = %v (%T), want %v", i, id, k, c[0], c[0], c[1])
			}
		}
		if _, ok := p.Custom["untagged"]; ok {
			t.Fatalf("row %d: an untagged field was sent", i)
		}
	}
	if st := looker.Stats(); st.Throttled != 0 || st.Logins == 0 {
		t.Logf("looker stats: %+v", st)
	}
}

// asTime renders a stored date attribute as UTC for comparison.
func asTime(v any) any {
	if tm, ok := v.(time.Time); ok {
		return tm.UTC()
	}
	return v
}

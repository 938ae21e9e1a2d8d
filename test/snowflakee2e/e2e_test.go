// Package snowflakee2e runs `brazesync sync` (real binaries, the
// snowflake-source plugin over the CloudQuery protocol) against the
// Snowflake emulator and the Braze emulator, and checks Braze's store row
// by row.
package snowflakee2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// scalarQuery sends one attribute per scalar Snowflake type from ALL_TYPES.
const scalarQuery = `SELECT 'sf_' || ID AS EXTERNAL_ID,
  ID AS "braze[sf_number]", AMOUNT AS "braze[sf_number_scaled]", RATIO AS "braze[sf_float]",
  NAME AS "braze[sf_varchar]", ACTIVE AS "braze[sf_boolean]", BIRTHDAY AS "braze[sf_date]",
  UPDATED_NTZ AS "braze[sf_ts_ntz]", SEEN_LTZ AS "braze[sf_ts_ltz]", SEEN_TZ AS "braze[sf_ts_tz]"
FROM ALL_TYPES`

// semiStructuredQuery sends VARIANT, ARRAY and OBJECT (CloudQuery JSON columns).
const semiStructuredQuery = `SELECT 'sf_' || ID AS EXTERNAL_ID,
  ATTRS AS "braze[sf_variant]", TAGS AS "braze[sf_array]", PREFS AS "braze[sf_object]"
FROM ALL_TYPES`

func TestSnowflakeToBrazeScalarTypes(t *testing.T) {
	runAndCheck(t, scalarQuery, map[string]map[string]string{
		"sf_9007199254740993": {
			"sf_number": "9007199254740993", "sf_number_scaled": "123.45", "sf_float": "0.25", "sf_varchar": "Zoë",
			"sf_boolean": "true", "sf_date": "1990-02-28T00:00:00Z", "sf_ts_ntz": "2024-05-06T07:08:09.123456Z",
			"sf_ts_ltz": "2024-05-06T07:08:09.654321Z", "sf_ts_tz": "2024-05-06T07:08:09.123456Z",
		},
		"sf_-7": {
			"sf_number": "-7", "sf_number_scaled": "-0.05", "sf_float": "-15000000000", "sf_varchar": "",
			"sf_boolean": "false", "sf_date": "1969-12-31T00:00:00Z", "sf_ts_ntz": "1960-01-01T00:00:00Z",
			"sf_ts_ltz": "2000-01-01T00:00:00Z", "sf_ts_tz": "2000-01-01T08:00:00Z",
		},
	})
}

// TestSnowflakeToBrazeSemiStructured: VARIANT, ARRAY and OBJECT arrive as JSON. The second row's
// ARRAY [1, {"x": null}] is one Braze would accept with 201 and silently not store (a mixed array
// holding a null), so brazesync dead-letters that row instead of losing it quietly.
func TestSnowflakeToBrazeSemiStructured(t *testing.T) {
	runAndCheck(t, semiStructuredQuery, map[string]map[string]string{
		"sf_9007199254740993": {"sf_variant": `map[plan:gold score:7]`, "sf_array": "[a b]", "sf_object": "map[email:true push:false]"},
	}, "sf_-7")
}

// runAndCheck syncs query (key-pair login) into the Braze emulator and
// compares each profile's custom attributes with want.
func runAndCheck(t *testing.T, query string, want map[string]map[string]string, rejected ...string) {
	key := testbin.NewKeyPair(t)
	sf, err := snowflakeemu.NewStarted(snowflakeemu.Options{PublicKey: key.Public, Now: snowflakeemu.SeedClock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sf.Close() })
	if err := sf.SeedAllTypes(context.Background()); err != nil {
		t.Fatal(err)
	}
	const apiKey = "e2e-snowflake-key-31c9"
	braze := emutest.Braze(t, brazeemu.Options{APIKeys: []string{apiKey}})
	host, port := sf.HostPort()
	src := testbin.SnowflakeSource(snowflake.Spec{Account: "EMU", User: "BRAZESYNC", PrivateKeyPath: key.PrivatePath,
		Warehouse: "COMPUTE_WH", Role: "SYNC_ROLE", Host: host, Port: port, Protocol: "http",
		Queries: []snowflake.Query{{Name: "all_types", SQL: query}}})
	spec := testbin.Spec(src, testbin.BrazeDestination("LOOKER_EXPORT"))
	res := testbin.Sync(t, spec, testbin.SyncOptions{Env: map[string]string{"BRAZE_API_KEY": apiKey, "BRAZE_ENDPOINT": braze.URL()}})
	if res.Code != 0 {
		t.Fatalf("brazesync sync: exit %d\n%s", res.Code, res.Stderr)
	}
	testbin.AssertNoSecret(t, res, "PRIVATE KEY")
	testbin.AssertNoSecret(t, res, apiKey)
	if res.Report == nil || !res.Report.Balanced() {
		t.Errorf("report missing or unbalanced: %+v", res.Report)
	}
	profiles := braze.Profiles()
	if len(profiles) != len(want) {
		t.Fatalf("Braze holds %d profiles, want %d (the NULL-id row is skipped)", len(profiles), len(want))
	}
	dead, err := destination.ReadDeadLetters(filepath.Join(res.Dir, "dead.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range rejected {
		if !slices.ContainsFunc(dead, func(l destination.DeadLetterLine) bool { return l.Key == id }) {
			t.Errorf("row %s is not in the dead-letter file: %+v", id, dead)
		}
	}
	for id, attrs := range want {
		p, ok := braze.Profile(id)
		if !ok {
			t.Errorf("no profile %s", id)
			continue
		}
		for k, v := range attrs {
			if got := render(p.Custom[k]); got != v {
				t.Errorf("%s.%s = %q (%T), want %q", id, k, got, p.Custom[k], v)
			}
		}
	}
}

// render prints a stored attribute the way want spells it (the Braze
// emulator stores dates as time.Time and integral JSON numbers as int64).
func render(v any) string {
	if tm, ok := v.(time.Time); ok {
		return tm.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

package bench

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// BenchmarkWarehouseEvents: $BENCH_EVENTS_ROWS event rows (default 100,000) from Snowflake into
// Braze, their identities kept in Snowflake (state: {backend: snowflake}), with every Snowflake
// statement taking 0 and $BENCH_SNOWFLAKE_LATENCY (default 150ms, a real warehouse's round trip):
// events/s, and how many INSERTs the pending identities took. A request with events goes out only
// once its identities are in Snowflake, so the round trip, not Braze's limit, paces such a table.
func BenchmarkWarehouseEvents(b *testing.B) {
	rows := runsFromEnv("BENCH_EVENTS_ROWS", 100_000)
	latency := 150 * time.Millisecond
	if d, err := time.ParseDuration(getenv("BENCH_SNOWFLAKE_LATENCY", "")); err == nil {
		latency = d
	}
	for range b.N {
		for _, l := range []time.Duration{0, latency} {
			key := testbin.NewKeyPair(b)
			sf := emutest.Snowflake(b, snowflakeemu.Options{PublicKey: key.Public, Now: snowflakeemu.SeedClock, Latency: l})
			braze := emutest.Braze(b, brazeemu.Options{APIKeys: []string{benchKey}, RateLimit: -1})
			seedEvents(b, sf, rows)
			r := warehouseSync(b, sf, braze, key, b.TempDir(), snowflake.Query{Name: "activity", SQL: eventsQuery},
				"tables:", "  activity:", "    kind: events", "    name: visited", "    id_column: EVENT_ID", "    properties: {PLAN: plan}")
			if r.report.EventsSent != int64(rows) || braze.Stats().Events != int64(rows) {
				b.Fatalf("sent %d events, Braze recorded %d, want %d", r.report.EventsSent, braze.Stats().Events, rows)
			}
			inserts := 0
			for _, q := range r.queries {
				if strings.HasPrefix(q.SQL, "INSERT INTO") && strings.Contains(q.SQL, "BRAZESYNC_EVENTS") && !strings.Contains(q.SQL, "SELECT") {
					inserts++
				}
			}
			name := fmt.Sprintf("%dk events, Snowflake round trip %v", rows/1000, l)
			rate := float64(rows) / r.wall.Seconds()
			record(figure{Bench: "warehouse events", Name: name + ": events/s", Value: rate, Unit: "events/s", Braze: rate / brazeRowsPerSec, Runs: 1,
				Note: "concurrency 16; every request waits for its identities' INSERT"})
			record(figure{Bench: "warehouse events", Name: "  " + name + ": identity INSERTs", Value: float64(inserts), Unit: "statements", Runs: 1,
				Note: fmt.Sprintf("for %d requests of events", (rows+74)/75)})
			b.Logf("%s: %v, %d INSERTs into BRAZESYNC_EVENTS", name, r.wall.Round(time.Millisecond), inserts)
		}
	}
}

// eventsQuery is one custom event per row, its identity the EVENT_ID column.
const eventsQuery = `SELECT USER_ID AS EXTERNAL_ID, EVENT_ID, PLAN FROM BE_EVENTS`

// seedEvents fills BE_EVENTS with n events of 10,000 users inside SQLite.
func seedEvents(b *testing.B, sf *snowflakeemu.Emulator, n int) {
	b.Helper()
	ctx := context.Background()
	if err := sf.Catalog().CreateTable(ctx, "BE_EVENTS", []snowflakeemu.ColumnDef{
		{Name: "USER_ID", Type: "VARCHAR"}, {Name: "EVENT_ID", Type: "VARCHAR"}, {Name: "PLAN", Type: "VARCHAR"}}); err != nil {
		b.Fatal(err)
	}
	err := sf.Catalog().Exec(ctx, fmt.Sprintf(`INSERT INTO BE_EVENTS WITH RECURSIVE e(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM e WHERE i < %d)
		SELECT printf('be_%%05d', i %% 10000), printf('ev_%%08d', i), CASE i %% 3 WHEN 0 THEN 'free' WHEN 1 THEN 'pro' ELSE 'team' END FROM e`, n-1))
	if err != nil {
		b.Fatal(err)
	}
}

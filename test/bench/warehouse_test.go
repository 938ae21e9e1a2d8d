package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// pushdownQuery maps the key, a string, a number and a boolean: the types pushdown compares.
const pushdownQuery = `SELECT ID AS EXTERNAL_ID, TIER AS "braze[tier]", VISITS AS "braze[visits]", VIP AS "braze[vip]" FROM PD_USERS`

// BenchmarkWarehousePushdown: an unchanged re-sync of $BENCH_PUSHDOWN_ROWS users (default
// 1,000,000) whose state is kept in Snowflake (state: {backend: snowflake}), without and with
// pushdown: true, through the real binaries against the Snowflake and Braze emulators (both in
// this process, so the Snowflake emulator's query log counts the rows each query returned).
// "warm" runs reuse one state_dir, as a worker with a persistent disk; "fresh" runs start from an
// empty one, as a Kubernetes pod, and so import the whole state from Snowflake first.
func BenchmarkWarehousePushdown(b *testing.B) {
	rows := runsFromEnv("BENCH_PUSHDOWN_ROWS", 1_000_000)
	key := testbin.NewKeyPair(b)
	sf := emutest.Snowflake(b, snowflakeemu.Options{PublicKey: key.Public, Now: snowflakeemu.SeedClock})
	braze := emutest.Braze(b, brazeemu.Options{APIKeys: []string{benchKey}, RateLimit: -1})
	seedPushdownUsers(b, sf, rows)
	warm := b.TempDir()
	seed := warehouseSync(b, sf, braze, key, warm, usersQuery(true))
	if seed.report.UsersSent != int64(rows) {
		b.Fatalf("the seeding run sent %d users, want %d", seed.report.UsersSent, rows)
	}
	b.Logf("seeding run: %d users sent and their state uploaded in %v", rows, seed.wall.Round(time.Millisecond))
	for range b.N {
		for _, c := range []struct {
			label    string
			dir      string
			pushdown bool
		}{{"warm, no pushdown", warm, false}, {"warm, pushdown", warm, true}, {"fresh, no pushdown", "", false}, {"fresh, pushdown", "", true}} {
			dir := c.dir
			if dir == "" {
				dir = b.TempDir()
			}
			r := warehouseSync(b, sf, braze, key, dir, usersQuery(c.pushdown))
			if r.report.UsersSent != 0 || r.report.RowsUnchanged != r.report.RowsRead {
				b.Fatalf("%s: an unchanged re-sync sent %d users (%d of %d rows unchanged)", c.label, r.report.UsersSent, r.report.RowsUnchanged, r.report.RowsRead)
			}
			name := fmt.Sprintf("%s, %dk unchanged users", c.label, rows/1000)
			record(figure{Bench: "warehouse state", Name: name + ": wall time", Value: r.wall.Seconds(), Unit: "s", Runs: 1})
			record(figure{Bench: "warehouse state", Name: "  " + c.label + ": source rows out of Snowflake", Value: float64(r.sourceRows), Unit: "rows", Runs: 1})
			record(figure{Bench: "warehouse state", Name: "  " + c.label + ": state rows imported", Value: float64(r.stateRows), Unit: "rows", Runs: 1})
			b.Logf("%s: %v, %d source rows and %d state rows out of Snowflake", name, r.wall.Round(time.Millisecond), r.sourceRows, r.stateRows)
		}
	}
}

// seedPushdownUsers fills PD_USERS with n users inside SQLite.
func seedPushdownUsers(b *testing.B, sf *snowflakeemu.Emulator, n int) {
	b.Helper()
	ctx := context.Background()
	if err := sf.Catalog().CreateTable(ctx, "PD_USERS", []snowflakeemu.ColumnDef{
		{Name: "ID", Type: "VARCHAR"}, {Name: "TIER", Type: "VARCHAR"}, {Name: "VISITS", Type: "NUMBER(38,0)"}, {Name: "VIP", Type: "BOOLEAN"}}); err != nil {
		b.Fatal(err)
	}
	err := sf.Catalog().Exec(ctx, fmt.Sprintf(`INSERT INTO PD_USERS WITH RECURSIVE u(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM u WHERE i < %d)
		SELECT printf('pd_%%08d', i), CASE i %% 3 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' ELSE 'bronze' END, i * 7, i %% 2 FROM u`, n-1))
	if err != nil {
		b.Fatal(err)
	}
}

// warehouseRun is one `brazesync sync` of the pushdown benchmark.
type warehouseRun struct {
	wall       time.Duration
	report     runner.RunReport
	sourceRows int64 // rows the users query returned
	stateRows  int64 // rows the state import returned
	queries    []snowflakeemu.QueryRecord
}

func usersQuery(pushdown bool) snowflake.Query {
	return snowflake.Query{Name: "users", SQL: pushdownQuery, Pushdown: pushdown}
}

// warehouseSync runs `brazesync sync` of query in dir, extra lines in the destination's spec, and
// reads, from the emulator's query log, the rows the source query and the state import moved out
// of Snowflake.
func warehouseSync(b *testing.B, sf *snowflakeemu.Emulator, braze *brazeemu.Emulator, key testbin.KeyPair, dir string, query snowflake.Query, extra ...string) warehouseRun {
	b.Helper()
	host, port := sf.HostPort()
	src := snowflake.Spec{Account: "EMU", User: "BRAZESYNC", PrivateKeyPath: key.PrivatePath, Warehouse: "COMPUTE_WH",
		Role: "SYNC_ROLE", Host: host, Port: port, Protocol: "http", Queries: []snowflake.Query{query}}
	if query.Pushdown {
		src.PushdownState = &snowflake.PushdownState{Database: "BRAZE"}
	}
	state := []string{"rate_limit: -1", "state:", "  backend: snowflake", "  account: EMU", "  user: BRAZESYNC",
		"  private_key_path: " + key.PrivatePath, "  warehouse: COMPUTE_WH", "  role: SYNC_ROLE",
		fmt.Sprintf("  host: %q", host), fmt.Sprintf("  port: %d", port), "  protocol: http", "  database: BRAZE"}
	spec := strings.ReplaceAll(testbin.Spec(testbin.SnowflakeSource(src), testbin.BrazeDestination("BENCH", append(state, extra...)...)), "{{BIN}}", testbin.Dir(b))
	specPath := filepath.Join(dir, "spec.yml")
	if err := os.WriteFile(specPath, []byte(spec), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testbin.Path(b, "brazesync"), "sync", "--log-format", "json", "--progress", "none",
		"--report", filepath.Join(dir, "report.json"), specPath)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BRAZE_API_KEY="+benchKey, "BRAZE_ENDPOINT="+braze.URL())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	logged := len(sf.History())
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("brazesync sync: %v\n%s", err, testbin.Tail(stderr.String(), 4000))
	}
	run := warehouseRun{wall: time.Since(start), queries: sf.History()[logged:]}
	raw, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(raw, &run.report); err != nil {
		b.Fatal(err)
	}
	if !run.report.Balanced() {
		b.Fatalf("the report does not add up: %+v", run.report.Report)
	}
	for _, q := range sf.History()[logged:] {
		switch {
		case q.DescribeOnly:
		case strings.Contains(q.SQL, "FROM PD_USERS"):
			run.sourceRows += q.Rows
			b.Logf("source query: %d rows in %v", q.Rows, q.Elapsed)
		case strings.Contains(q.SQL, "BRAZESYNC_STATE") && strings.Contains(q.SQL, "ORDER BY NS, USER_KEY"):
			run.stateRows += q.Rows
			b.Logf("state import: %d rows in %v", q.Rows, q.Elapsed)
		}
	}
	return run
}

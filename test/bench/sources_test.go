package bench

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"

	"github.com/brazesync/brazesync/source/looker"
	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/test/testbin"
)

// firstSessions reads one row per user from the emulator's Currents data.
const firstSessions = `SELECT EXTERNAL_USER_ID AS EXTERNAL_ID, PLATFORM AS "braze[platform]",
TIME AS "braze[first_session_at]", SESSION_ID AS "braze[first_session]",
APP_ID AS "braze[app]" FROM USERS_BEHAVIORS_APP_FIRSTSESSION`

// lookTyped is lookeremu.LookTyped (numbers, yesno, dates and times), kept literal so
// the suite does not need the Looker emulator's package to build.
const lookTyped = 2

// BenchmarkSources: the Snowflake emulator → snowflake-source and the Looker emulator
// (json_detail) → looker-source, each through brazesync into the Braze emulator with
// rate limiting off. Rows: $BENCH_SOURCE_ROWS (default 250,000); both emulators run as
// their own processes (`brazesync emulator snowflake|looker`).
func BenchmarkSources(b *testing.B) {
	rows := runsFromEnv("BENCH_SOURCE_ROWS", 250_000)
	braze := startEmulator(b, "--rate-limit", "-1")
	b.Run("snowflake", func(b *testing.B) {
		key := testbin.NewKeyPair(b)
		sf := startProc(b, nil, "emulator", "snowflake", "--listen", "127.0.0.1:0", "--public-key", key.PublicPath,
			"--seed-users", fmt.Sprint(rows), "--seed-all-types=false")
		u, err := url.Parse(sf.url)
		if err != nil {
			b.Fatal(err)
		}
		port, err := strconv.Atoi(u.Port())
		if err != nil {
			b.Fatal(err)
		}
		src := testbin.SnowflakeSource(snowflake.Spec{Account: "EMU", User: "BRAZESYNC", PrivateKeyPath: key.PrivatePath,
			Warehouse: "COMPUTE_WH", Role: "SYNC_ROLE", Host: u.Hostname(), Port: port, Protocol: "http",
			Queries: []snowflake.Query{{Name: "first_sessions", SQL: firstSessions}}})
		spec := testbin.Spec(src, testbin.BrazeDestination("BENCH", "rate_limit: -1"))
		sourceFigures(b, "snowflake-sourc", "snowflake", braze, sf, spec, rows)
	})
	b.Run("looker", func(b *testing.B) {
		const secret = "bench-looker-secret-41"
		lk := startProc(b, []string{"LOOKEREMU_CLIENT_SECRET=" + secret}, "emulator", "looker", "--listen", "127.0.0.1:0",
			"--rows", fmt.Sprint(rows))
		src := testbin.LookerSource(looker.Spec{BaseURL: lk.url, ClientID: "brazesync", ClientSecretEnv: "BENCH_LOOKER_SECRET",
			Tables: []looker.TableSpec{{Name: "typed_users", LookID: lookTyped, Limit: "-1"}}})
		spec := testbin.Spec(src, testbin.BrazeDestination("BENCH", "rate_limit: -1"))
		sourceFigures(b, "looker-source", "looker", braze, lk, spec, rows, "BENCH_LOOKER_SECRET="+secret)
	})
}

// sourceFigures runs spec and records rows/s, brazesync's CPU, the source plugin's CPU
// and memory, and the source emulator's CPU (srcEmu; not brazesync's cost).
func sourceFigures(b *testing.B, proc, label string, braze, srcEmu *emulatorProc, spec string, rows int, env ...string) {
	var runs []syncRun
	var emuCPU []float64
	for range b.N {
		for range runsFromEnv("BENCH_SOURCE_RUNS", 2) {
			before := srcEmu.cpu()
			runs = append(runs, runSync(b, braze, spec, int64(rows), env...))
			emuCPU = append(emuCPU, (srcEmu.cpu()-before).Seconds()/float64(rows)*1e6)
		}
	}
	rate := collect(runs, syncRun.rowsPerSec)
	n := len(runs)
	name := fmt.Sprintf("%s rows/s, %dk rows", label, rows/1000)
	record(figure{Bench: "sources", Name: name, Value: rate, Unit: "rows/s", Braze: rate / brazeRowsPerSec, Runs: n})
	record(figure{Bench: "sources", Name: "  " + label + ": brazesync CPU per 1M rows", Value: collect(runs, syncRun.cpuPerMillion),
		Unit: "core-s", Runs: n})
	record(figure{Bench: "sources", Name: "  " + label + ": source CPU per 1M rows",
		Value: collect(runs, func(r syncRun) float64 { return r.procs[proc].CPU.Seconds() / float64(r.rows) * 1e6 }), Unit: "core-s", Runs: n})
	record(figure{Bench: "sources", Name: "  " + label + ": source peak RSS",
		Value: collect(runs, func(r syncRun) float64 { return mib(r.procs[proc].Peak) }), Unit: "MiB", Target: "<= 150", Runs: n})
	record(figure{Bench: "sources", Name: "  " + label + ": emulator CPU per 1M", Value: median(emuCPU), Unit: "core-s", Runs: n,
		Note: "the " + label + " emulator's own cost, not brazesync's"})
}

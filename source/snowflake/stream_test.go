package snowflake

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/stretchr/testify/require"
)

// childEnv makes the test binary run the emulator instead of the tests,
// so the big stream test measures the source's memory alone.
const childEnv = "SNOWFLAKE_SOURCE_TEST_EMULATOR_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		os.Exit(snowflakeemu.Main(context.Background(), strings.Fields(args), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startEmuProcess runs the emulator in a child process and returns its host and port.
func startEmuProcess(t *testing.T, args string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+args)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	var host string
	var port int
	_, err = fmt.Sscanf(strings.Replace(strings.TrimPrefix(strings.TrimSpace(line), "listening on http://"), ":", " ", 1), "%s %d", &host, &port)
	require.NoError(t, err, line)
	return host, port
}

// bigQuery yields n rows: IDs 1..n whose integer width changes from the
// inline batch (int16) to the remote chunks (int32), a bucket that stays
// int8, a scaled decimal, a timestamp and a string.
func bigQuery(n int) string {
	return fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %d)
SELECT i AS ID, i %% 100 AS BUCKET, 'user_' || i AS "EXTERNAL_ID",
       CAST(i %% 100000 / 100.0 AS NUMBER(10,2)) AS "braze[score]",
       CAST(1700000000 + i AS TIMESTAMP_NTZ) AS SEEN_AT
FROM n`, n)
}

// TestMillionRowStream streams 1,000,000 rows from a multi-chunk result
// (1,000 inline + 20 gzip chunks of 50,000) and checks every row, the
// one-schema-per-table rule across batches, the ≤8,192-row record cap,
// and that the heap stays flat (it prints peak heap and RSS).
func TestMillionRowStream(t *testing.T) {
	if testing.Short() {
		t.Skip("1M-row stream: run without -short")
	}
	const n = 1_000_000
	host, port := startEmuProcess(t, "--password "+testPassword+" --seed-users 0 --seed-all-types=false --chunk-rows 50000")
	s := Spec{Account: "EMU", User: "BRAZESYNC", Password: testPassword, Warehouse: "COMPUTE_WH", Host: host, Port: port,
		Protocol: "http", Queries: []Query{{Name: "big", SQL: bigQuery(n)}}, LoginTimeoutSeconds: 10}
	p, err := initPlugin(t, s)
	require.NoError(t, err)

	res := make(chan message.SyncMessage, 4)
	errc := make(chan error, 1)
	start := time.Now()
	go func() {
		errc <- p.Sync(context.Background(), plugin.SyncOptions{Tables: []string{"*"}}, res)
		close(res)
	}()
	var (
		rows, records int64
		idSum         int64
		schema        *arrow.Schema
		peakHeap      uint64
		ms            runtime.MemStats
	)
	for m := range res {
		ins, ok := m.(*message.SyncInsert)
		if !ok {
			continue
		}
		rec := ins.Record
		if schema == nil {
			schema = rec.Schema()
		}
		require.True(t, schema.Equal(rec.Schema()), "every record has the table's schema")
		require.LessOrEqual(t, rec.NumRows(), int64(MaxRecordRows))
		ids := rec.Column(0).(*array.Int64)
		buckets := rec.Column(1).(*array.Int64)
		ext := rec.Column(2).(*array.String)
		for i := 0; i < ids.Len(); i++ {
			id := ids.Value(i)
			require.Equal(t, rows+int64(i)+1, id, "rows arrive in order")
			if id%9973 == 0 {
				require.Equal(t, id%100, buckets.Value(i))
				require.Equal(t, fmt.Sprintf("user_%d", id), ext.Value(i))
			}
			idSum += id
		}
		rows += rec.NumRows()
		records++
		if records%64 == 0 {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
		}
	}
	require.NoError(t, <-errc)
	took := time.Since(start)
	require.EqualValues(t, n, rows)
	require.EqualValues(t, int64(n)*(n+1)/2, idSum)
	require.Equal(t, "braze[score]", schema.Field(3).Name)
	t.Logf("streamed %d rows in %d records in %s (%.0f rows/s incl. query time); peak heap in use %.1f MiB; peak RSS %s",
		rows, records, took.Round(time.Millisecond), float64(rows)/took.Seconds(), float64(peakHeap)/(1<<20), peakRSS())
}

// peakRSS reads this process's high-water resident set from /proc.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}

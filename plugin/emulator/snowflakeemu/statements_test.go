package snowflakeemu_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"
	sf "github.com/snowflakedb/gosnowflake"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
)

// openDriver starts an emulator and opens it with the real gosnowflake driver.
func openDriver(t *testing.T) (*snowflakeemu.Emulator, *sql.DB) {
	t.Helper()
	e, err := snowflakeemu.NewStarted(snowflakeemu.Options{Password: "pw", Now: snowflakeemu.SeedClock})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	host, port := e.HostPort()
	cfg := &sf.Config{Account: "EMU", User: "BRAZESYNC", Password: "pw", Database: "BRAZE", Warehouse: "COMPUTE_WH",
		Host: host, Port: port, Protocol: "http", Params: map[string]*string{}, DisableTelemetry: true,
		LoginTimeout: 5 * time.Second, MaxRetryCount: 1}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	t.Cleanup(func() { _ = db.Close() })
	return e, db
}

func exec(t *testing.T, db *sql.DB, stmt string, args ...any) int64 {
	t.Helper()
	res, err := db.ExecContext(context.Background(), stmt, args...)
	require.NoError(t, err, stmt)
	n, err := res.RowsAffected()
	if err != nil {
		return -1 // DDL has no count
	}
	return n
}

const stateDDL = `CREATE TABLE IF NOT EXISTS BRAZE.BRAZESYNC.T (
  NS VARCHAR(16) NOT NULL, K VARCHAR NOT NULL, H BINARY(8), N NUMBER(19,0), F BOOLEAN,
  PRIMARY KEY (NS, K))`

func TestSchemaAndTableDDL(t *testing.T) {
	_, db := openDriver(t)
	exec(t, db, "CREATE SCHEMA IF NOT EXISTS BRAZE.BRAZESYNC")
	exec(t, db, "CREATE SCHEMA IF NOT EXISTS BRAZESYNC") // exists: no error
	_, err := db.Exec("CREATE SCHEMA BRAZESYNC")
	requireCode(t, err, 2002)
	exec(t, db, stateDDL)
	exec(t, db, stateDDL) // IF NOT EXISTS: no-op
	_, err = db.Exec(strings.Replace(stateDDL, " IF NOT EXISTS", "", 1))
	requireCode(t, err, 2002)
	_, err = db.Exec("SELECT * FROM BRAZESYNC.NOPE")
	requireCode(t, err, 2003)
	// NOT NULL is enforced, as on Snowflake; the primary key is not.
	_, err = db.Exec("INSERT INTO BRAZESYNC.T (NS, K) VALUES (NULL, 'a')")
	require.Error(t, err)
	require.Equal(t, int64(2), exec(t, db, "INSERT INTO BRAZESYNC.T (NS, K) VALUES ('n', 'a'), ('n', 'a')"))
	exec(t, db, "DROP TABLE BRAZESYNC.T")
	exec(t, db, "DROP TABLE IF EXISTS BRAZESYNC.T")
	exec(t, db, "DROP SCHEMA IF EXISTS BRAZE.BRAZESYNC")
	_, err = db.Exec("CREATE TABLE BRAZESYNC.T (A VARCHAR)")
	require.Error(t, err, "the schema is gone")
}

// TestUnknownDatabaseOrSchema: a three-part name in another database, or in a schema that does not
// exist, fails as on Snowflake, with 002003 naming it — in queries and in statements.
func TestUnknownDatabaseOrSchema(t *testing.T) {
	_, db := openDriver(t)
	_, err := db.Query("SELECT * FROM NOPE.BRAZESYNC.T WHERE A = ?", 1)
	requireCode(t, err, 2003)
	require.ErrorContains(t, err, "Database 'NOPE' does not exist or not authorized.")
	_, err = db.Exec("DELETE FROM BRAZE.NOSCHEMA.T")
	requireCode(t, err, 2003)
	require.ErrorContains(t, err, "Schema 'BRAZE.NOSCHEMA' does not exist or not authorized.")
	exec(t, db, "CREATE SCHEMA IF NOT EXISTS BRAZE.BRAZESYNC")
	exec(t, db, stateDDL)
	exec(t, db, "INSERT INTO BRAZE.BRAZESYNC.T (NS, K) VALUES ('n', 'a')") // the schema exists now
	_, err = db.Query("SELECT 'NOPE.X.Y', T.K FROM BRAZE.BRAZESYNC.T T")   // a literal and a column, not names
	require.NoError(t, err)
}

func requireCode(t *testing.T, err error, code int) {
	t.Helper()
	var se *sf.SnowflakeError
	require.True(t, errors.As(err, &se), "want a SnowflakeError, got %v", err)
	require.Equal(t, code, se.Number, se.Message)
}

// TestArrayBindingInsert inserts thousands of rows in one request with the driver's array
// binding, NULLs included, and reads them back as Arrow batches.
func TestArrayBindingInsert(t *testing.T) {
	e, db := openDriver(t)
	exec(t, db, "CREATE SCHEMA IF NOT EXISTS BRAZESYNC")
	exec(t, db, stateDDL)
	const n = 5000
	ns, keys := make([]string, n), make([]string, n)
	hashes, nums, flags := make([]any, n), make([]any, n), make([]any, n)
	for i := range n {
		ns[i], keys[i] = "ns1", fmt.Sprintf("user-%05d", i)
		sum := sha256.Sum256([]byte(keys[i]))
		if i%3 != 0 {
			hashes[i] = sum[:8]
			nums[i] = int64(i) * 1_000_000_007
			flags[i] = i%2 == 0
		}
	}
	got := exec(t, db, "INSERT INTO BRAZE.BRAZESYNC.T (NS, K, H, N, F) VALUES (?, ?, ?, ?, ?)",
		sf.Array(&ns), sf.Array(&keys), sf.Array(&hashes), sf.Array(&nums), sf.Array(&flags))
	require.Equal(t, int64(n), got)
	var last snowflakeemu.QueryRecord
	for _, r := range e.History() {
		if strings.HasPrefix(r.SQL, "INSERT") {
			last = r
		}
	}
	require.Equal(t, n, last.BoundRows, "one request carried every row")
	require.Equal(t, int64(n), last.RowsAffected)

	ctx := sf.WithArrowBatches(context.Background())
	rows := queryArrow(t, db, ctx, "SELECT K, H, N, F FROM BRAZESYNC.T WHERE NS = ? AND K >= ? ORDER BY K", "ns1", "user-04990")
	require.Len(t, rows, 10)
	for _, r := range rows {
		var i int
		_, _ = fmt.Sscanf(r[0].(string), "user-%05d", &i)
		if i%3 == 0 {
			require.Equal(t, []any{r[0], nil, nil, nil}, r)
			continue
		}
		sum := sha256.Sum256([]byte(r[0].(string)))
		require.Equal(t, sum[:8], r[1])
		require.Equal(t, int64(i)*1_000_000_007, r[2])
		require.Equal(t, i%2 == 0, r[3])
	}
	require.Equal(t, int64(n), exec(t, db, "UPDATE BRAZESYNC.T SET N = 0 WHERE NS = ?", "ns1"))
	require.Equal(t, int64(n/2), exec(t, db, "DELETE FROM BRAZESYNC.T WHERE K < ?", fmt.Sprintf("user-%05d", n/2)))
}

// queryArrow runs a query through the Arrow batch API and returns its cells as Go values.
func queryArrow(t *testing.T, db *sql.DB, ctx context.Context, q string, args ...any) [][]any {
	t.Helper()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	var out [][]any
	err = conn.Raw(func(dc any) error {
		rows, err := dc.(driver.QueryerContext).QueryContext(ctx, q, named)
		if err != nil {
			return err
		}
		defer rows.Close()
		batches, err := rows.(sf.SnowflakeRows).GetArrowBatches()
		if err != nil {
			return err
		}
		for _, b := range batches {
			recs, err := b.Fetch()
			if err != nil {
				return err
			}
			for _, rec := range *recs {
				for r := 0; r < int(rec.NumRows()); r++ {
					row := make([]any, rec.NumCols())
					for c := range row {
						row[c] = cellValue(rec.Column(c), r)
					}
					out = append(out, row)
				}
				rec.Release()
			}
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func cellValue(col any, r int) any {
	type nuller interface{ IsNull(int) bool }
	if col.(nuller).IsNull(r) {
		return nil
	}
	switch a := col.(type) {
	case *array.String:
		return a.Value(r)
	case *array.Binary:
		return append([]byte(nil), a.Value(r)...)
	case *array.Boolean:
		return a.Value(r)
	case *array.Int8:
		return int64(a.Value(r))
	case *array.Int16:
		return int64(a.Value(r))
	case *array.Int32:
		return int64(a.Value(r))
	case *array.Int64:
		return a.Value(r)
	}
	return fmt.Sprintf("%T", col)
}

// TestDigestFunctions checks SHA2_BINARY, SUBSTR on BINARY and HEX_ENCODE against Go's SHA-256.
func TestDigestFunctions(t *testing.T) {
	_, db := openDriver(t)
	ctx := sf.WithArrowBatches(context.Background())
	for _, v := range []string{`"gold"`, `42`, `"Zoë \"q\" ☃"`, `null`, ``} {
		rows := queryArrow(t, db, ctx, "SELECT SUBSTR(SHA2_BINARY(?, 256), 1, 8) AS H, HEX_ENCODE(SHA2_BINARY(?)) AS X, SHA2(?, 256) AS L", v, v, v)
		sum := sha256.Sum256([]byte(v))
		require.Equal(t, sum[:8], rows[0][0], v)
		require.Equal(t, strings.ToUpper(fmt.Sprintf("%x", sum)), rows[0][1], v)
		require.Equal(t, fmt.Sprintf("%x", sum), rows[0][2], v)
	}
	rows := queryArrow(t, db, ctx, "SELECT CHR(92) || CHR(34) AS S, TRANSLATE('a'||CHR(1)||'b', CHR(1)||CHR(2), '') AS T, LEFT('Zoë!', 3) AS L")
	require.Equal(t, []any{`\"`, "ab", "Zoë"}, rows[0])
}

// TestMergeIsCompareAndSwap is the lock pattern: MERGE inserts the row when absent and takes it
// over only under its condition; of many concurrent takers exactly one wins.
func TestMergeIsCompareAndSwap(t *testing.T) {
	e, db := openDriver(t)
	exec(t, db, "CREATE SCHEMA IF NOT EXISTS BRAZESYNC")
	exec(t, db, `CREATE TABLE IF NOT EXISTS BRAZESYNC.LOCKS (ID VARCHAR NOT NULL, RUN_ID VARCHAR, EXPIRES_AT TIMESTAMP_LTZ, PRIMARY KEY (ID))`)
	take := func(run string) (int64, error) {
		res, err := db.Exec(`MERGE INTO BRAZE.BRAZESYNC.LOCKS t USING (SELECT ? AS ID, ? AS RUN_ID) s ON t.ID = s.ID
			WHEN MATCHED AND (t.RUN_ID IS NULL OR t.EXPIRES_AT < CURRENT_TIMESTAMP()) THEN
			  UPDATE SET RUN_ID = s.RUN_ID, EXPIRES_AT = DATEADD(second, 60, CURRENT_TIMESTAMP())
			WHEN NOT MATCHED THEN INSERT (ID, RUN_ID, EXPIRES_AT) VALUES (s.ID, s.RUN_ID, DATEADD(second, 60, CURRENT_TIMESTAMP()))`, "dest", run)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	var wg sync.WaitGroup
	won := make(chan string, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := take(fmt.Sprintf("run-%d", i))
			if err == nil && n == 1 {
				won <- fmt.Sprintf("run-%d", i)
			}
		}()
	}
	wg.Wait()
	close(won)
	var winners []string
	for w := range won {
		winners = append(winners, w)
	}
	require.Len(t, winners, 1)
	var holder string
	require.NoError(t, db.QueryRow("SELECT RUN_ID FROM BRAZESYNC.LOCKS WHERE ID = 'dest'").Scan(&holder))
	require.Equal(t, winners[0], holder)
	n, err := take("late")
	require.NoError(t, err)
	require.Zero(t, n, "a live lock is not taken over")
	e.Advance(61 * time.Second)
	n, err = take("late")
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "an expired lock is taken over")
	require.NoError(t, db.QueryRow("SELECT RUN_ID FROM BRAZESYNC.LOCKS WHERE ID = 'dest'").Scan(&holder))
	require.Equal(t, "late", holder)
	var count int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM BRAZESYNC.LOCKS").Scan(&count))
	require.Equal(t, 1, count)
}

func TestExplicitTransactionsAreRefused(t *testing.T) {
	_, db := openDriver(t)
	_, err := db.Exec("BEGIN")
	require.ErrorContains(t, err, "explicit transactions are not supported")
}

package snowflake

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/rs/zerolog"
	sf "github.com/snowflakedb/gosnowflake"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/destination/state/snowflakestate"
	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	bzschema "github.com/brazesync/brazesync/schema"
)

// pushdownValues are the values the SQL encoding must reproduce byte for byte, or refuse to
// hold back: quotes, backslashes, escapes, control characters, unicode, the 255-character limit,
// integers past 2^53, both booleans and NULL.
var pushdownValues = []struct {
	s    any
	n    any
	b    any
	note string
}{
	{"gold", int64(0), true, "plain"},
	{"", int64(-7), false, "empty string, negative"},
	{`say "hi" \ bye`, int64(9007199254740993), nil, "quotes and backslash, past 2^53"},
	{"tab\tnl\ncr\r", int64(-9223372036854775808), true, "escaped whitespace, min int64"},
	{"Zoë ☃ 😀 \u2028 </script> & ' ~\x7f", int64(9223372036854775807), false, "unicode, DEL, max int64"},
	{"bell\x07", nil, nil, "control character: the SQL refuses"},
	{strings.Repeat("é", 255), int64(1), true, "255 characters"},
	{strings.Repeat("x", 256), int64(2), false, "256 characters: rejected by the destination"},
	{nil, nil, nil, "all NULL"},
}

const hashQuery = `SELECT ID AS EXTERNAL_ID, S AS "braze[s]", N AS "braze[n]", B AS "braze[b]" FROM PD_VALUES`

func seedPushdownValues(t *testing.T, e *snowflakeemu.Emulator) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, e.Catalog().CreateTable(ctx, "PD_VALUES", []snowflakeemu.ColumnDef{
		{Name: "ID", Type: "VARCHAR"}, {Name: "S", Type: "VARCHAR"}, {Name: "N", Type: "NUMBER(38,0)"}, {Name: "B", Type: "BOOLEAN"}}))
	rows := make([][]any, len(pushdownValues))
	for i, v := range pushdownValues {
		rows[i] = []any{fmt.Sprintf("u%d", i), v.s, v.n, v.b}
	}
	require.NoError(t, e.Catalog().Insert(ctx, "PD_VALUES", rows))
}

// goHashes runs the query through this source and the destination's encoder (package schema),
// and returns, per user key, each attribute's state.HashValue, and the rows the encoder rejects.
func goHashes(t *testing.T, e *snowflakeemu.Emulator, cfg bzschema.Config, query string) (map[string]map[string]state.Hash, map[string]bool) {
	t.Helper()
	p, err := initPlugin(t, emuSpec(e, Query{Name: "pd", SQL: query}))
	require.NoError(t, err)
	recs := syncAll(t, p)["pd"]
	require.NotEmpty(t, recs)
	m, err := bzschema.NewMapping(recs[0].Schema(), cfg)
	require.NoError(t, err)
	enc := m.NewEncoder()
	hashes, rejected := map[string]map[string]state.Hash{}, map[string]bool{}
	for _, rec := range recs {
		require.NoError(t, enc.Reset(rec))
		for r := 0; r < int(rec.NumRows()); r++ {
			out, res := enc.AppendRow(nil, r)
			key := string(res.Key)
			if res.Reject != nil {
				rejected[key] = true
				continue
			}
			var members map[string]json.RawMessage // raw: the exact bytes the destination hashes
			require.NoError(t, json.Unmarshal(append(append([]byte("{"), out...), '}'), &members))
			hashes[key] = map[string]state.Hash{}
			for name, v := range members {
				if name != "external_id" && name != "_update_existing_only" {
					hashes[key][name] = state.HashValue(v)
				}
			}
		}
	}
	return hashes, rejected
}

// planFor resolves the diff plan of query on the emulator's columns.
func planFor(t *testing.T, e *snowflakeemu.Emulator, query string, cfg bzschema.Config) *diffPlan {
	t.Helper()
	cl, err := New(context.Background(), zerolog.Nop(), specJSON(t, emuSpec(e, Query{Name: "pd", SQL: query})), plugin.NewClientOptions{})
	require.NoError(t, err)
	c := cl.(*Client)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	_, err = c.Tables(context.Background(), plugin.TableOptions{Tables: []string{"*"}})
	require.NoError(t, err)
	plan, err := newDiffPlan(c.tables[0], layout.Pushdown{Destination: "braze", Config: cfg}, 1, time.Now())
	require.NoError(t, err)
	return plan
}

// TestPushdownJSONMatchesDestination: for every value, the JSON text the SQL builds hashes
// exactly as the destination's own encoding does, or the SQL declines to hold the row back.
func TestPushdownJSONMatchesDestination(t *testing.T) {
	for _, nulls := range []string{bzschema.NullsSkip, bzschema.NullsUnset} {
		t.Run(nulls, func(t *testing.T) {
			e := startEmu(t, snowflakeemuOptions())
			seedPushdownValues(t, e)
			cfg := bzschema.Config{Nulls: nulls}
			want, rejected := goHashes(t, e, cfg, hashQuery)
			require.True(t, rejected["u7"], "256 characters: the destination rejects the row")
			plan := planFor(t, e, hashQuery, cfg)
			require.Len(t, plan.attrs, 3)
			db := openDB(t, e)
			var sel []string
			for _, a := range plan.attrs {
				sel = append(sel, "HEX_ENCODE("+hashOf("COALESCE("+a.json+", 'null')")+")", "CASE WHEN "+a.column+" IS NULL THEN 1 ELSE 0 END")
			}
			all := map[string]bool{} // every hash the destination would record
			for _, attrs := range want {
				for _, h := range attrs {
					all[strings.ToUpper(hex.EncodeToString(h[:]))] = true
				}
			}
			rows, err := db.Query("SELECT " + plan.key + ", " + strings.Join(sel, ", ") + " FROM (" + hashQuery + ") s")
			require.NoError(t, err)
			defer rows.Close()
			checked := 0
			for rows.Next() {
				vals := make([]sql.NullString, 1+2*len(plan.attrs))
				ptrs := make([]any, len(vals))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				require.NoError(t, rows.Scan(ptrs...))
				key := vals[0].String
				for i, a := range plan.attrs {
					sqlHash, isNull := vals[1+2*i].String, vals[2+2*i].String == "1"
					goHash, sent := want[key][a.name]
					switch {
					case rejected[key] && a.name != "s":
						// The row is rejected for its string; this value is checked in other rows.
					case isNull && nulls == bzschema.NullsSkip:
						require.False(t, sent, "%s: a NULL is not sent under nulls: skip", key)
					case sent && strings.ToUpper(hex.EncodeToString(goHash[:])) == sqlHash:
						checked++ // exact: the SQL text is the destination's
					default:
						// Not reproduced (a control character, over 255 characters, or a row the
						// destination rejects): the hash must match nothing the destination records.
						require.False(t, all[sqlHash], "%s %s: an inexact SQL hash matches a recorded one", key, a.name)
						require.Contains(t, []string{"u5", "u7"}, key, "only the documented cases are inexact")
					}
				}
			}
			require.NoError(t, rows.Err())
			exact := map[string]int{bzschema.NullsSkip: 17, bzschema.NullsUnset: 23}[nulls] // 27 values less the inexact and the skipped
			require.Equal(t, exact, checked, "every other value is reproduced exactly")
		})
	}
}

// TestHashFunctionMatchesHashValue: SHA2_BINARY in SQL is state.HashValue on the same JSON texts,
// including the ones only other types produce (arrays, objects with $time, decimals, null).
func TestHashFunctionMatchesHashValue(t *testing.T) {
	e := startEmu(t, snowflakeemuOptions())
	db := openDB(t, e)
	texts := []string{`"gold"`, `"Zoë \"q\" \\ ☃"`, `42`, `-0.05`, `12.50`, `1e+21`, `true`, `false`, `null`,
		`["a","b"]`, `[]`, `{"$time":"2024-05-01T00:00:00.000Z"}`, `{"a":{"$time":"1990-02-28T00:00:00Z"},"b":[1,2]}`, `""`}
	for _, text := range texts {
		var got string
		require.NoError(t, db.QueryRow("SELECT HEX_ENCODE("+hashOf("?")+")", text).Scan(&got))
		h := state.HashValue([]byte(text))
		require.Equal(t, strings.ToUpper(hex.EncodeToString(h[:])), got, text)
		var lit string
		require.NoError(t, db.QueryRow("SELECT HEX_ENCODE("+hashOf(layout.Literal(text))+")").Scan(&lit))
		require.Equal(t, got, lit, "a literal and a bound value hash alike: %s", text)
	}
}

func openDB(t *testing.T, e *snowflakeemu.Emulator) *sql.DB {
	t.Helper()
	cfg, err := DriverConfig(emuConnection(e))
	require.NoError(t, err)
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func emuConnection(e *snowflakeemu.Emulator) Connection {
	s := emuSpec(e)
	return Connection{Account: s.Account, User: s.User, Password: s.Password, Warehouse: s.Warehouse, Role: s.Role,
		Host: s.Host, Port: s.Port, Protocol: s.Protocol, LoginTimeoutSeconds: 5}
}

// TestPushdownReadsOnlyChangedRows: with the state holding what Braze accepted, an unchanged
// re-sync returns no row, a changed row comes back alone, and the emulator's query log shows the
// rows that left Snowflake.
func TestPushdownReadsOnlyChangedRows(t *testing.T) {
	e := startEmu(t, snowflakeemuOptions())
	ctx := context.Background()
	require.NoError(t, e.Catalog().CreateTable(ctx, "PD_USERS", []snowflakeemu.ColumnDef{
		{Name: "ID", Type: "VARCHAR"}, {Name: "TIER", Type: "VARCHAR"}, {Name: "VISITS", Type: "NUMBER(38,0)"}}))
	var rows [][]any
	for i := range 200 {
		rows = append(rows, []any{fmt.Sprintf("user_%03d", i), []string{"gold", "silver", `q"uote`}[i%3], int64(i)})
	}
	require.NoError(t, e.Catalog().Insert(ctx, "PD_USERS", rows))
	const q = `SELECT ID AS EXTERNAL_ID, TIER AS "braze[tier]", VISITS AS "braze[visits]" FROM PD_USERS`
	cfg := bzschema.Config{}
	hashes, _ := goHashes(t, e, cfg, q)

	// The destination's state after a run that sent every row: what Braze accepted.
	conn := emuConnection(e)
	drv, err := DriverConfig(conn)
	require.NoError(t, err)
	settings := layout.Pushdown{Destination: "braze", Endpoint: "rest.iad-01.braze.com", Config: cfg,
		ExportAttribute: "looker_export", ExportValue: "LOOKER_EXPORT"}
	local, err := state.Open(filepath.Join(t.TempDir(), "state"), state.Options{RunID: "r1"})
	require.NoError(t, err)
	st, err := snowflakestate.Open(ctx, local, snowflakestate.Config{Driver: drv, Database: "BRAZE", Destination: "braze",
		RunID: "r1", Pushdown: settings, Log: zerolog.Nop()})
	require.NoError(t, err)
	sp, err := st.Space(ctx, state.Namespace{Destination: "braze", Endpoint: settings.Endpoint, Table: "pd",
		KeyKind: "external_id", ExportAttribute: "looker_export", ExportValue: "LOOKER_EXPORT"})
	require.NoError(t, err)
	var ups []state.Update
	for key, attrs := range hashes {
		u := state.Update{Key: []byte(key), Flag: state.FlagSet, SentAt: 1700000000}
		for name, h := range attrs {
			u.Attrs = append(u.Attrs, state.Attr{Name: name, Hash: h, SentAt: 1700000000})
		}
		ups = append(ups, u)
	}
	require.NoError(t, sp.Commit(ctx, ups))
	require.NoError(t, st.Close())

	spec := emuSpec(e, Query{Name: "pd", SQL: q, Pushdown: true})
	spec.PushdownState = &PushdownState{Database: "BRAZE"}
	sync := func() (int64, int64) {
		p, err := initPlugin(t, spec)
		require.NoError(t, err)
		var n int64
		for _, rec := range syncAll(t, p)["pd"] {
			n += rec.NumRows()
		}
		h := e.History()
		for i := len(h) - 1; i >= 0; i-- {
			if strings.Contains(h[i].SQL, queryRowsColumn) && !h[i].DescribeOnly {
				return n, h[i].Rows
			}
		}
		t.Fatal("no pushdown query in the emulator's log")
		return 0, 0
	}
	got, moved := sync()
	require.Zero(t, got, "nothing changed: no row reaches the destination")
	require.Equal(t, int64(1), moved, "only the summary row left Snowflake")

	_, err = e.DB().Exec(`UPDATE PD_USERS SET TIER = 'platinum' WHERE ID IN ('user_007', 'user_100')`)
	require.NoError(t, err)
	_, err = e.DB().Exec(`UPDATE PD_USERS SET VISITS = 9999 WHERE ID = 'user_150'`)
	require.NoError(t, err)
	got, moved = sync()
	require.Equal(t, int64(3), got)
	require.Equal(t, int64(4), moved, "three changed rows and the summary row")
}

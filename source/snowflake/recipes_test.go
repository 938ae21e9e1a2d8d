package snowflake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// recipeQueries reads a recipe spec file and returns its source queries,
// checking the brazesync spec shape on the way.
func recipeQueries(t *testing.T, path string) []Query {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var queries []Query
	var sawDest bool
	for {
		var doc struct {
			Kind string
			Spec struct {
				Name, Path, Registry string
				Destinations         []string
				Spec                 struct{ Queries []Query }
			}
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		switch doc.Kind {
		case "source":
			require.Equal(t, "bin/snowflake-source", doc.Spec.Path)
			require.Equal(t, "local", doc.Spec.Registry)
			require.Equal(t, []string{"braze"}, doc.Spec.Destinations)
			queries = doc.Spec.Spec.Queries
		case "destination":
			require.Equal(t, "braze", doc.Spec.Name)
			require.Equal(t, "bin/braze-destination", doc.Spec.Path)
			sawDest = true
		}
	}
	require.True(t, sawDest)
	require.NotEmpty(t, queries)
	return queries
}

// TestRecipes runs every docs/recipes/snowflake-*.yml query against the
// emulator seeded with Currents-shaped data, and checks the results of
// each against an aggregation done here in Go over the raw rows.
func TestRecipes(t *testing.T) {
	e := startEmu(t, snowflakeemu.Options{})
	require.NoError(t, e.SeedCurrents(context.Background(), 3000))
	lines := seedOrderLines(t, e)
	files, err := filepath.Glob("../../docs/recipes/snowflake-*.yml")
	require.NoError(t, err)
	require.Len(t, files, 6)
	results := map[string]map[string]map[string]any{} // table → EXTERNAL_ID → column → value
	for _, f := range files {
		for _, q := range recipeQueries(t, f) {
			p, err := initPlugin(t, emuSpec(e, q))
			require.NoError(t, err, f)
			results[q.Name] = byExternalID(t, syncAll(t, p)[q.Name])
			require.NotEmpty(t, results[q.Name], q.Name)
		}
	}
	now := snowflakeemu.SeedClock

	// Lapsed users: last session more than 30 days ago.
	last := map[string]int64{}
	eachRow(t, e, "SELECT EXTERNAL_USER_ID, TIME FROM USERS_BEHAVIORS_APP_SESSIONSTART", func(id string, v int64) {
		last[id] = max(last[id], v)
	})
	lapsed := 0
	for id, ts := range last {
		got, ok := results["lapsed_users"][id]
		if ts >= now.AddDate(0, 0, -30).Unix() {
			require.Falsef(t, ok, "%s is not lapsed", id)
			continue
		}
		lapsed++
		require.Truef(t, ok, "%s is lapsed", id)
		require.Equal(t, time.Unix(ts, 0).UTC(), got["braze[last_session_at]"])
		lastDay := time.Unix(ts, 0).UTC().Truncate(24 * time.Hour)
		require.EqualValues(t, int64(now.Sub(lastDay).Hours()/24), got["braze[days_since_last_session]"])
	}
	require.Equal(t, lapsed, len(results["lapsed_users"]))

	// Purchasers: count and exact revenue per user.
	count, cents := map[string]int64{}, map[string]int64{}
	eachRow(t, e, "SELECT EXTERNAL_USER_ID, CAST(ROUND(PRICE*100) AS INTEGER) FROM USERS_BEHAVIORS_PURCHASE", func(id string, v int64) {
		count[id]++
		cents[id] += v
	})
	require.Equal(t, len(count), len(results["purchasers"]))
	for id, n := range count {
		got := results["purchasers"][id]
		require.EqualValues(t, n, got["braze[purchase_count_90d]"])
		require.Equal(t, cents[id], got["braze[revenue_90d]"], id)
	}

	// Email engagement: opens never exceed sends, clicks never exceed opens.
	for id, r := range results["email_engagement"] {
		require.LessOrEqual(t, r["braze[emails_opened_30d]"], r["braze[emails_received_30d]"], id)
		require.LessOrEqual(t, r["braze[emails_clicked_30d]"], r["braze[emails_opened_30d]"], id)
	}
	// Retention: everyone in the cohort has a first-session date; some were retained, some not.
	var retained, notRetained int
	for _, r := range results["retention_28d"] {
		require.NotNil(t, r["braze[first_session_date]"])
		if r["braze[retained_28d]"] == true {
			retained++
		} else {
			notRetained++
		}
	}
	require.Positive(t, retained)
	require.Positive(t, notRetained)

	checkOrderPurchases(t, e, lines)
	checkSessionMilestones(t, e)
}

// eachRow reads (text, integer) pairs straight from the emulator's SQLite.
func eachRow(t *testing.T, e *snowflakeemu.Emulator, q string, fn func(string, int64)) {
	t.Helper()
	rows, err := e.DB().Query(q)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id string
		var v int64
		require.NoError(t, rows.Scan(&id, &v))
		fn(id, v)
	}
	require.NoError(t, rows.Err())
}

// byExternalID indexes records by their EXTERNAL_ID column; decimals are
// returned as unscaled int64 (cents), timestamps as time.Time.
func byExternalID(t *testing.T, recs []arrow.Record) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, rec := range recs {
		ids := rec.Column(rec.Schema().FieldIndices("EXTERNAL_ID")[0]).(*array.String)
		for r := 0; r < int(rec.NumRows()); r++ {
			row := map[string]any{}
			for c, f := range rec.Schema().Fields() {
				col := rec.Column(c)
				if col.IsNull(r) {
					row[f.Name] = nil
					continue
				}
				switch a := col.(type) {
				case *array.Int64:
					row[f.Name] = a.Value(r)
				case *array.Decimal128:
					row[f.Name] = a.Value(r).BigInt().Int64()
				case *array.Timestamp:
					row[f.Name] = a.Value(r).ToTime(arrow.Microsecond)
				case *array.Boolean:
					row[f.Name] = a.Value(r)
				default:
					var v any
					_ = json.Unmarshal([]byte(`"`+col.ValueStr(r)+`"`), &v)
					row[f.Name] = v
				}
			}
			out[ids.Value(r)] = row
		}
	}
	return out
}

// orderLine is one row of ORDER_LINES, the orders-like table of snowflake-order-purchases.yml.
type orderLine struct {
	order, sku, currency, status string
	customer, channel, coupon    any // nil: NULL
	line, qty, cents             int64
	at                           time.Time
}

// seedOrderLines creates ORDER_LINES with 300 lines over 14 days: completed and cancelled, with
// and without a customer, in several currencies (one lower-case, one invalid), quantities 0 to 5.
func seedOrderLines(t *testing.T, e *snowflakeemu.Emulator) []orderLine {
	t.Helper()
	cols := []snowflakeemu.ColumnDef{{Name: "ORDER_ID", Type: "VARCHAR"}, {Name: "LINE_NO", Type: "NUMBER(38,0)"}, {Name: "CUSTOMER_ID", Type: "VARCHAR"},
		{Name: "SKU", Type: "VARCHAR"}, {Name: "UNIT_PRICE", Type: "NUMBER(12,2)"}, {Name: "CURRENCY", Type: "VARCHAR"}, {Name: "QUANTITY", Type: "NUMBER(38,0)"},
		{Name: "ORDERED_AT", Type: "TIMESTAMP_NTZ(9)"}, {Name: "STATUS", Type: "VARCHAR"}, {Name: "CHANNEL", Type: "VARCHAR"}, {Name: "COUPON_CODE", Type: "VARCHAR"}}
	ctx := context.Background()
	require.NoError(t, e.Catalog().CreateTable(ctx, "ORDER_LINES", cols))
	var lines []orderLine
	var rows [][]any
	for i := int64(0); i < 300; i++ {
		l := orderLine{order: fmt.Sprintf("o-%d", i/3), line: i % 3, customer: fmt.Sprintf("user_%d", i%70),
			sku: fmt.Sprintf("SKU-%d", i%23), cents: 100 + (i*7919)%19900, currency: []string{"USD", "EUR", "usd", "XYZ"}[i%4],
			qty: i % 6, at: snowflakeemu.SeedClock.Add(-time.Duration(i*67) * time.Minute), status: "completed",
			channel: []any{"web", "app", nil}[i%3], coupon: nil}
		if i%5 == 0 {
			l.status = "cancelled"
		}
		if i%37 == 0 {
			l.customer = nil
		}
		if i%4 == 1 {
			l.coupon = "SPRING"
		}
		lines = append(lines, l)
		rows = append(rows, []any{l.order, l.line, l.customer, l.sku, fmt.Sprintf("%d.%02d", l.cents/100, l.cents%100),
			l.currency, l.qty, l.at, l.status, l.channel, l.coupon})
	}
	require.NoError(t, e.Catalog().Insert(ctx, "ORDER_LINES", rows))
	return lines
}

// checkOrderPurchases runs snowflake-order-purchases.yml and compares every row, field by field,
// with the completed lines of the last 7 days computed here.
func checkOrderPurchases(t *testing.T, e *snowflakeemu.Emulator, lines []orderLine) {
	t.Helper()
	got := recipeRows(t, e, "../../docs/recipes/snowflake-order-purchases.yml", "order_purchases", "braze_event_id")
	want := 0
	for _, l := range lines {
		id := fmt.Sprintf("%s-%d", l.order, l.line)
		r, ok := got[id]
		if l.status != "completed" || l.customer == nil || l.at.Before(snowflakeemu.SeedClock.AddDate(0, 0, -7)) {
			require.Falsef(t, ok, "line %s is not a purchase of the last 7 days", id)
			continue
		}
		want++
		require.Truef(t, ok, "line %s missing", id)
		require.Equal(t, l.customer, r["EXTERNAL_ID"], id)
		require.Equal(t, l.sku, r["braze_product_id"], id)
		require.Equal(t, l.currency, r["braze_currency"], id)
		require.Equal(t, l.cents, r["braze_price"], id)
		require.Equal(t, l.qty, r["braze_quantity"], id)
		require.True(t, l.at.Equal(r["braze_time"].(time.Time)), id)
		require.Equal(t, l.channel, r["braze[channel]"], id)
		require.Equal(t, l.coupon, r["braze[coupon]"], id)
	}
	require.Positive(t, want)
	require.Len(t, got, want)
	t.Logf("order purchases: %d of %d lines", want, len(lines))
}

// checkSessionMilestones runs snowflake-session-milestone-events.yml and compares it with each
// user's fifth session start (by time, then id) of the last 30 days, computed here from the raw rows.
func checkSessionMilestones(t *testing.T, e *snowflakeemu.Emulator) {
	t.Helper()
	got := recipeRows(t, e, "../../docs/recipes/snowflake-session-milestone-events.yml", "session_milestones", "SESSION_START_ID")
	type session struct {
		id, user, app, platform string
		at                      int64
	}
	byUser := map[string][]session{}
	rows, err := e.DB().Query(`SELECT ID, EXTERNAL_USER_ID, APP_ID, PLATFORM, TIME FROM USERS_BEHAVIORS_APP_SESSIONSTART WHERE EXTERNAL_USER_ID IS NOT NULL`)
	require.NoError(t, err)
	for rows.Next() {
		var s session
		require.NoError(t, rows.Scan(&s.id, &s.user, &s.app, &s.platform, &s.at))
		byUser[s.user] = append(byUser[s.user], s)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	first := map[string]int64{}
	eachRow(t, e, "SELECT EXTERNAL_USER_ID, TIME FROM USERS_BEHAVIORS_APP_FIRSTSESSION", func(id string, v int64) { first[id] = v })
	want := 0
	for user, ss := range byUser {
		sort.Slice(ss, func(a, b int) bool { return ss[a].at < ss[b].at || ss[a].at == ss[b].at && ss[a].id < ss[b].id })
		if len(ss) < 5 || ss[4].at < snowflakeemu.SeedClock.AddDate(0, 0, -30).Unix() {
			continue
		}
		m := ss[4]
		want++
		r, ok := got[m.id]
		require.Truef(t, ok, "milestone %s of %s missing", m.id, user)
		require.Equal(t, user, r["EXTERNAL_ID"])
		require.Equal(t, time.Unix(m.at, 0).UTC(), r["REACHED_AT"])
		require.Equal(t, m.app, r["APP_ID"])
		require.Equal(t, m.platform, r["PLATFORM"])
		require.Equal(t, m.at/86400-first[user]/86400, r["DAYS_SINCE_FIRST_SESSION"]) // DATEDIFF counts day boundaries
	}
	require.Positive(t, want)
	require.Len(t, got, want)
	t.Logf("session milestones: %d of %d users", want, len(byUser))
}

// recipeRows runs one recipe's query and indexes its rows by the column idCol, each row's values
// decoded as byExternalID does; an id seen twice fails.
func recipeRows(t *testing.T, e *snowflakeemu.Emulator, file, table, idCol string) map[string]map[string]any {
	t.Helper()
	queries := recipeQueries(t, file)
	require.Len(t, queries, 1)
	p, err := initPlugin(t, emuSpec(e, queries[0]))
	require.NoError(t, err, file)
	out := map[string]map[string]any{}
	for _, rec := range syncAll(t, p)[table] {
		for id, row := range byColumn(t, rec, idCol) {
			_, dup := out[id]
			require.Falsef(t, dup, "%s: %s %s twice", file, idCol, id)
			out[id] = row
		}
	}
	return out
}

// byColumn indexes one record's rows by the string column col, values decoded as byExternalID does.
func byColumn(t *testing.T, rec arrow.Record, col string) map[string]map[string]any {
	t.Helper()
	idx := rec.Schema().FieldIndices(col)
	require.Len(t, idx, 1, col)
	ids := rec.Column(idx[0]).(*array.String)
	out := map[string]map[string]any{}
	for r := 0; r < int(rec.NumRows()); r++ {
		row := map[string]any{}
		for c, f := range rec.Schema().Fields() {
			row[f.Name] = cellValue(rec.Column(c), r)
		}
		out[ids.Value(r)] = row
	}
	return out
}

// cellValue decodes one cell: nil for NULL, unscaled int64 for decimals, time.Time for timestamps.
func cellValue(col arrow.Array, r int) any {
	if col.IsNull(r) {
		return nil
	}
	switch a := col.(type) {
	case *array.Int64:
		return a.Value(r)
	case *array.Decimal128:
		return a.Value(r).BigInt().Int64()
	case *array.Timestamp:
		return a.Value(r).ToTime(a.DataType().(*arrow.TimestampType).Unit)
	case *array.String:
		return a.Value(r)
	}
	return col.ValueStr(r)
}

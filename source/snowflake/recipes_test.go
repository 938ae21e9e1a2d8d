package snowflake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
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
	files, err := filepath.Glob("../../docs/recipes/snowflake-*.yml")
	require.NoError(t, err)
	require.Len(t, files, 4)
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

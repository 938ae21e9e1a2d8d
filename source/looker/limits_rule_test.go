package looker_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/source/looker"
	"github.com/brazesync/brazesync/test/emutest"
)

// lookSavedWithoutLimit is a Look whose saved query sets no limit, so Looker would apply 5,000.
const lookSavedWithoutLimit = 90

func seedWithUnlimitedLook(rows int) lookeremu.Options {
	o := lookeremu.Seed(rows)
	o.Looks = append(o.Looks, lookeremu.Look{ID: lookSavedWithoutLimit, Title: "no limit",
		Query: lookeremu.Query{Model: lookeremu.SeedModel, View: lookeremu.SeedView, Fields: []string{"users.external_id", "users.field_1"}}})
	return o
}

// syncLogged runs a sync with the plugin's log captured.
func syncLogged(t *testing.T, spec []byte) (rows int64, log string) {
	t.Helper()
	var buf bytes.Buffer
	p := looker.NewPlugin()
	p.SetLogger(zerolog.New(&buf))
	ctx := context.Background()
	require.NoError(t, p.Init(ctx, spec, plugin.NewClientOptions{}))
	defer p.Close(ctx)
	msgs, err := p.SyncAll(ctx, plugin.SyncOptions{Tables: []string{"*"}})
	require.NoError(t, err)
	for _, rec := range records(msgs) {
		rows += rec.NumRows()
	}
	return rows, buf.String()
}

// TestNoLimitMeansAllResults: a table whose spec sets no limit gets every row, not Looker's default
// (5,000 for a Look saved without one, 500 for an inline query), and each table's query runs once
// per sync, counted in the emulator's own request log.
func TestNoLimitMeansAllResults(t *testing.T) {
	const rows = 6200
	emu := emutest.Looker(t, seedWithUnlimitedLook(rows))
	q := &looker.SpecQuery{Model: lookeremu.SeedModel, View: lookeremu.SeedView, Fields: []string{"users.external_id", "users.field_1"}}
	n, log := syncLogged(t, specFor(emu, looker.TableSpec{Name: "look", LookID: lookSavedWithoutLimit}, looker.TableSpec{Name: "inline", Query: q}))
	assert.Equal(t, int64(2*rows), n)
	assert.NotContains(t, log, `"level":"warn"`)
	assert.Equal(t, 2, emu.Stats().QueryRuns, "one query run per table per sync")
	var looks []lookeremu.Request
	for _, r := range emu.Requests() {
		if strings.Contains(r.Path, "/run/") && strings.Contains(r.Path, "/looks/") {
			looks = append(looks, r)
		}
	}
	require.Len(t, looks, 1)
	assert.Equal(t, "-1", looks[0].Limit, "the Look is asked for all results")
}

// TestWarnsAtTheLimit: a result of exactly the spec's limit, or of one of Looker's own caps, is
// logged as a warning naming the table.
func TestWarnsAtTheLimit(t *testing.T) {
	emu := emutest.Looker(t, seedWithUnlimitedLook(300))
	n, log := syncLogged(t, specFor(emu, looker.TableSpec{Name: "capped", LookID: lookeremu.LookScenario, Limit: "120"}))
	assert.Equal(t, int64(120), n)
	assert.Contains(t, log, `"level":"warn"`)
	assert.Contains(t, log, "table capped returned exactly its limit of 120 rows")

	emu = emutest.Looker(t, seedWithUnlimitedLook(5000))
	_, log = syncLogged(t, specFor(emu, looker.TableSpec{Name: "five_thousand", LookID: lookeremu.LookScenario}))
	assert.Contains(t, log, "table five_thousand returned exactly 5000 rows, a limit Looker applies on its own")

	_, log = syncLogged(t, specFor(emu, looker.TableSpec{Name: "under", LookID: lookeremu.LookScenario, Limit: "4000"},
		looker.TableSpec{Name: "asked", LookID: lookeremu.LookScenario, Limit: "5000"}))
	assert.NotContains(t, log, "five_thousand")
	assert.Contains(t, log, "table under returned exactly its limit of 4000 rows")
	assert.Contains(t, log, "table asked returned exactly its limit of 5000 rows")
	assert.NotContains(t, log, "on its own")
}

// TestZonelessDatetimesReadInTheResultsTimezone: Looker writes datetimes without a zone, in the
// zone its result names; they are read as instants in that zone.
func TestZonelessDatetimesReadInTheResultsTimezone(t *testing.T) {
	o := lookeremu.Seed(30)
	o.Timezone = "America/New_York"
	emu := emutest.Looker(t, o)
	msgs, err := syncAll(t, specFor(emu, looker.TableSpec{Name: "typed", LookID: lookeremu.LookTyped}))
	require.NoError(t, err)
	ny, _ := time.LoadLocation("America/New_York")
	i := 0
	for _, rec := range records(msgs) {
		idx := rec.Schema().FieldIndices("users.last_seen_time")[0]
		col := rec.Column(idx).(*array.Timestamp)
		for r := 0; r < int(rec.NumRows()); r++ {
			want, _ := time.ParseInLocation(time.DateTime, lookeremu.SeedRow(i)["users.last_seen_time"].(string), ny)
			require.True(t, want.Equal(col.Value(r).ToTime(arrow.Microsecond)), "row %d: %v, want %v", i, col.Value(r).ToTime(arrow.Microsecond), want)
			i++
		}
	}
	require.Equal(t, 30, i)
}

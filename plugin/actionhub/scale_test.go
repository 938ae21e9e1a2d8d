package actionhub_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
)

// stockMaxExport is the stock action's MAX_EXPORT: it silently drops every
// row after this many and still answers "ok".
const stockMaxExport = 100_000

// TestLookOf250kRowsIsDeliveredWhole runs the stock scenario at 250,000 rows
// end to end: the emulated Looker lists the hub, fetches the form and sends
// the Look with a download_url it serves; every user must end up flagged in
// the Braze emulator, including the 150,000 past the stock cap.
func TestLookOf250kRowsIsDeliveredWhole(t *testing.T) {
	const rows = 250_000
	e := setup(t, envOptions{rows: rows, seed: true})
	f, _, err := e.client.Form(t.Context(), e.def, e.data(), nil)
	require.NoError(t, err)
	require.Len(t, f.Fields, 3) // the stock two and the mirror-mode option

	start := time.Now()
	res := e.send(lookeremu.LookScenario, form(f.Fields[0].Default, "Q3_WINBACK"))
	elapsed := time.Since(start)
	require.True(t, res.Success, res.Message)
	assert.Contains(t, res.Message, "250000 rows read, 250000 users sent")

	for i := range rows {
		want := lookeremu.SeedRow(i)
		p, ok := e.braze.Profile(want["users.external_id"].(string))
		require.True(t, ok)
		require.Equal(t, []any{"Q3_WINBACK"}, p.Custom["looker_export"], "row %d", i)
		require.Equal(t, want["users.field_1"], p.Custom["field_1"], "row %d", i)
		require.EqualValues(t, want["users.field_2"], p.Custom["field_2"], "row %d", i)
	}
	reps := e.reports()
	require.Len(t, reps, 1)
	assert.Equal(t, int64(rows), reps[0].RowsRead)
	assert.Equal(t, int64(rows), reps[0].UsersSent)
	assert.Greater(t, reps[0].UsersSent, int64(stockMaxExport))
	t.Logf("250,000 rows Looker → hub → Braze emulator in %s (%.0f rows/s), %d requests, %d keep-alives",
		elapsed, float64(rows)/elapsed.Seconds(), reps[0].Requests, res.KeepAlives)
}

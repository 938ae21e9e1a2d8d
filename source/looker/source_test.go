package looker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/source/looker"
	"github.com/brazesync/brazesync/test/emutest"
)

func specFor(emu *lookeremu.Server, tables ...looker.TableSpec) []byte {
	b, _ := json.Marshal(looker.Spec{BaseURL: emu.URL(), ClientID: emu.ClientID(), ClientSecret: emu.ClientSecret(), Tables: tables})
	return b
}

// syncAll runs the plugin in-process exactly as the SDK's server would.
func syncAll(t *testing.T, spec []byte) (message.SyncMessages, error) {
	t.Helper()
	p := looker.NewPlugin()
	ctx := context.Background()
	if err := p.Init(ctx, spec, plugin.NewClientOptions{}); err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = p.Close(ctx) })
	return p.SyncAll(ctx, plugin.SyncOptions{Tables: []string{"*"}})
}

func records(msgs message.SyncMessages) []arrow.Record {
	var out []arrow.Record
	for _, m := range msgs {
		if ins, ok := m.(*message.SyncInsert); ok {
			out = append(out, ins.Record)
		}
	}
	return out
}

func fieldTags(f arrow.Field) []string {
	v, ok := f.Metadata.GetValue(looker.TagsMetadataKey)
	if !ok {
		return nil
	}
	var tags []string
	_ = json.Unmarshal([]byte(v), &tags)
	return tags
}

func TestSyncTypedLookRowByRow(t *testing.T) {
	const rows = 20_000
	emu := emutest.Looker(t, lookeremu.Seed(rows))
	msgs, err := syncAll(t, specFor(emu, looker.TableSpec{Name: "typed", LookID: lookeremu.LookTyped, Limit: "-1"}))
	require.NoError(t, err)

	migrates := 0
	for _, m := range msgs {
		if mt, ok := m.(*message.SyncMigrateTable); ok {
			migrates++
			assert.Equal(t, "typed", mt.Table.Name)
		}
	}
	assert.Equal(t, 1, migrates)

	recs := records(msgs)
	require.NotEmpty(t, recs)
	sc := recs[0].Schema()
	name, _ := sc.Metadata().GetValue(schema.MetadataTableName)
	assert.Equal(t, "typed", name)
	wantTypes := map[string]arrow.DataType{
		"users.external_id":    arrow.BinaryTypes.String,
		"users.first_name":     arrow.BinaryTypes.String,
		"users.signup_date":    arrow.FixedWidthTypes.Date32,
		"users.last_seen_time": &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
		"users.is_vip":         arrow.FixedWidthTypes.Boolean,
		"users.lifetime_value": arrow.PrimitiveTypes.Float64,
	}
	require.Len(t, sc.Fields(), len(wantTypes))
	for _, f := range sc.Fields() {
		assert.True(t, arrow.TypeEqual(wantTypes[f.Name], f.Type), "column %s has type %s", f.Name, f.Type)
	}
	assert.Equal(t, []string{"braze_id"}, fieldTags(sc.Field(0)))
	assert.Equal(t, []string{"braze[first_name]"}, fieldTags(sc.Field(1)))

	i := 0
	for _, rec := range recs {
		assert.LessOrEqual(t, rec.NumRows(), int64(looker.MaxRecordRows))
		cols := map[string]arrow.Array{}
		for c, f := range rec.Schema().Fields() {
			cols[f.Name] = rec.Column(c)
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			want := lookeremu.SeedRow(i)
			require.Equal(t, want["users.external_id"], cols["users.external_id"].(*array.String).Value(r))
			require.Equal(t, want["users.first_name"], cols["users.first_name"].(*array.String).Value(r))
			require.Equal(t, want["users.signup_date"], cols["users.signup_date"].(*array.Date32).Value(r).FormattedString())
			ts := cols["users.last_seen_time"].(*array.Timestamp).Value(r).ToTime(arrow.Microsecond).UTC()
			require.Equal(t, want["users.last_seen_time"], ts.Format(time.DateTime))
			require.Equal(t, want["users.is_vip"] == "Yes", cols["users.is_vip"].(*array.Boolean).Value(r))
			require.Equal(t, want["users.lifetime_value"], cols["users.lifetime_value"].(*array.Float64).Value(r))
			i++
		}
	}
	assert.Equal(t, rows, i, "every row arrives exactly once")
}

func TestSyncInlineQueryWithFilterAndLimit(t *testing.T) {
	emu := emutest.Looker(t, lookeremu.Seed(300))
	q := &looker.SpecQuery{Model: lookeremu.SeedModel, View: lookeremu.SeedView,
		Fields:  []string{"users.external_id", "users.platform", "sessions.count"},
		Filters: map[string]string{"users.platform": "ios"}, Limit: "50"}
	msgs, err := syncAll(t, specFor(emu, looker.TableSpec{Name: "ios_users", Query: q}))
	require.NoError(t, err)
	var n int64
	for _, rec := range records(msgs) {
		n += rec.NumRows()
		assert.True(t, arrow.TypeEqual(arrow.PrimitiveTypes.Int64, rec.Schema().Field(2).Type))
		for r := 0; r < int(rec.NumRows()); r++ {
			assert.Equal(t, "ios", rec.Column(1).(*array.String).Value(r))
		}
	}
	assert.Equal(t, int64(50), n)
}

func TestSyncAllResultsVersusDefaultLimit(t *testing.T) {
	emu := emutest.Looker(t, lookeremu.Seed(6000))
	count := func(limit looker.Limit) int64 {
		msgs, err := syncAll(t, specFor(emu, looker.TableSpec{Name: "s", LookID: lookeremu.LookScenario, Limit: limit}))
		require.NoError(t, err)
		var n int64
		for _, rec := range records(msgs) {
			n += rec.NumRows()
		}
		return n
	}
	assert.Equal(t, int64(6000), count("-1"))
	assert.Equal(t, int64(10), count("10"))
}

func TestSyncBacksOffOn429AndRelogsOnExpiry(t *testing.T) {
	emu := emutest.Looker(t, lookeremu.Seed(100))
	p := looker.NewPlugin()
	ctx := context.Background()
	require.NoError(t, p.Init(ctx, specFor(emu, looker.TableSpec{Name: "s", LookID: lookeremu.LookScenario}), plugin.NewClientOptions{}))
	defer p.Close(ctx)
	_, err := p.SyncAll(ctx, plugin.SyncOptions{Tables: []string{"*"}})
	require.NoError(t, err)
	emu.ExpireTokens()
	emu.FailNext(2, 429, "0")
	msgs, err := p.SyncAll(ctx, plugin.SyncOptions{Tables: []string{"*"}})
	require.NoError(t, err)
	var n int64
	for _, rec := range records(msgs) {
		n += rec.NumRows()
	}
	assert.Equal(t, int64(100), n)
	st := emu.Stats()
	assert.Equal(t, 2, st.Throttled)
	assert.Equal(t, 2, st.Logins, "one login at the first sync, one after the token expired")
	assert.Equal(t, "token", st.LastAuthStyle)
}

func TestSyncGivesUpAfterRetries(t *testing.T) {
	emu := emutest.Looker(t, lookeremu.Seed(10))
	emu.FailNext(100, 429, "0")
	spec := looker.Spec{BaseURL: emu.URL(), ClientID: emu.ClientID(), ClientSecret: emu.ClientSecret(), MaxRetries: 2,
		Tables: []looker.TableSpec{{Name: "s", LookID: lookeremu.LookScenario}}}
	b, _ := json.Marshal(spec)
	p := looker.NewPlugin()
	require.NoError(t, p.Init(context.Background(), b, plugin.NewClientOptions{}), "Init checks only the spec")
	_, err := p.SyncAll(context.Background(), plugin.SyncOptions{Tables: []string{"*"}})
	var apiErr *looker.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 429, apiErr.Status)
	assert.Equal(t, codes.Unavailable, status.Code(err), "an outage is retryable")
	assert.Equal(t, 3, emu.Stats().Throttled)
}

func TestSyncPivotedLookExpandsColumns(t *testing.T) {
	emu := emutest.Looker(t, lookeremu.Seed(30))
	msgs, err := syncAll(t, specFor(emu, looker.TableSpec{Name: "pivoted", LookID: lookeremu.LookPivoted}))
	require.NoError(t, err)
	recs := records(msgs)
	require.NotEmpty(t, recs)
	var names []string
	for _, f := range recs[0].Schema().Fields() {
		names = append(names, f.Name)
	}
	assert.Equal(t, []string{"users.external_id", "sessions.count|users.platform=android",
		"sessions.count|users.platform=ios", "sessions.count|users.platform=web"}, names)
	// Row i of the seed is on platforms[i%3]; its count lands in that column only.
	rec := recs[0]
	for r := 0; r < int(rec.NumRows()); r++ {
		want := lookeremu.SeedRow(r)
		col := map[string]int{"android": 1, "ios": 2, "web": 3}[want["users.platform"].(string)]
		for c := 1; c <= 3; c++ {
			if c == col {
				assert.Equal(t, int64(want["sessions.count"].(int)), rec.Column(c).(*array.Int64).Value(r))
			} else {
				assert.True(t, rec.Column(c).IsNull(r))
			}
		}
	}
}

func TestSyncRefusesTaggedPivot(t *testing.T) {
	opts := lookeremu.Seed(10)
	fields := append([]lookeremu.Field(nil), opts.Views[0].Fields...)
	for i := range fields {
		if fields[i].Name == "sessions.count" {
			fields[i].Tags = []string{"braze[session_count]"}
		}
	}
	opts.Views[0].Fields = fields
	emu := emutest.Looker(t, opts)
	_, err := syncAll(t, specFor(emu, looker.TableSpec{Name: "pivoted", LookID: lookeremu.LookPivoted}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pivoted")
}

func TestSyncTableCalculationCarriesTags(t *testing.T) {
	emu := emutest.Looker(t, lookeremu.Seed(10))
	msgs, err := syncAll(t, specFor(emu, looker.TableSpec{Name: "calc", LookID: lookeremu.LookTableCalc}))
	require.NoError(t, err)
	rec := records(msgs)[0]
	f := rec.Schema().Field(2)
	assert.Equal(t, "double_sessions", f.Name)
	assert.Equal(t, []string{"braze[double_sessions]"}, fieldTags(f))
	for r := 0; r < int(rec.NumRows()); r++ {
		assert.Equal(t, float64(2*(r%5+1)), rec.Column(2).(*array.Float64).Value(r))
	}
}

func TestSyncDataBeforeFields(t *testing.T) {
	opts := lookeremu.Seed(500)
	opts.DataBeforeFields = true
	emu := emutest.Looker(t, opts)
	msgs, err := syncAll(t, specFor(emu, looker.TableSpec{Name: "s", LookID: lookeremu.LookScenario}))
	require.NoError(t, err)
	var n int64
	for _, rec := range records(msgs) {
		n += rec.NumRows()
	}
	assert.Equal(t, int64(500), n)
}

func TestSpecValidation(t *testing.T) {
	for name, spec := range map[string]string{
		"no tables":      `{"base_url":"http://x","client_id":"a","client_secret":"b"}`,
		"bad name":       `{"base_url":"http://x","client_id":"a","client_secret":"b","tables":[{"name":"Bad-Name","look_id":1}]}`,
		"both":           `{"base_url":"http://x","client_id":"a","client_secret":"b","tables":[{"name":"t","look_id":1,"query":{"model":"m","view":"v","fields":["a"]}}]}`,
		"bad limit":      `{"base_url":"http://x","client_id":"a","client_secret":"b","tables":[{"name":"t","look_id":1,"limit":0}]}`,
		"no secret":      `{"base_url":"http://x","client_id":"a","tables":[{"name":"t","look_id":1}]}`,
		"query no model": `{"base_url":"http://x","client_id":"a","client_secret":"b","tables":[{"name":"t","query":{"view":"v","fields":["a"]}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			err := looker.NewPlugin().Init(context.Background(), []byte(spec), plugin.NewClientOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "invalid looker spec")
		})
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	emu := emutest.Looker(t, lookeremu.Seed(1))
	spec := fmt.Sprintf(`{"base_url":%q,"client_id":"a","client_secret":"s3cr3t-value","tables":[{"name":"t","look_id":1}]}`, emu.URL())
	p := looker.NewPlugin()
	require.NoError(t, p.Init(context.Background(), []byte(spec), plugin.NewClientOptions{}))
	_, err := p.SyncAll(context.Background(), plugin.SyncOptions{Tables: []string{"*"}})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t-value")
	// Looker answers a wrong secret with 404: the message says to check the credentials.
	assert.Contains(t, err.Error(), "wrong client_id or client_secret")
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
}

package destination

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/schema"
)

// activityRecord is an events table by its tags: n rows for users u0..u(users-1), each with a
// unique seq property, at times minutes apart before at.
func activityRecord(n, users int, at time.Time) arrow.Record {
	tag := func(name string, dt arrow.DataType, tags ...string) arrow.Field {
		return schema.FieldWithTags(arrow.Field{Name: name, Type: dt, Nullable: true}, tags...)
	}
	md := arrow.NewMetadata([]string{cqschema.MetadataTableName}, []string{"activity"})
	sc := arrow.NewSchema([]arrow.Field{
		tag("USER_ID", arrow.BinaryTypes.String, schema.TagKey),
		tag("EVENT", arrow.BinaryTypes.String, schema.TagEventName),
		tag("AT", &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}, schema.TagTime),
		tag("SEQ", arrow.PrimitiveTypes.Int64, "braze[seq]"),
	}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("u%d", i%users))
		b.Field(1).(*array.StringBuilder).Append([]string{"signed_up", "upgraded"}[i%2])
		b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(at.Add(-time.Duration(i) * time.Minute).Unix()))
		b.Field(3).(*array.Int64Builder).Append(int64(i))
	}
	return b.NewRecord()
}

// seqs counts the landed events per seq property.
func seqs(emu *brazeemu.Emulator) map[int64]int {
	out := map[int64]int{}
	for _, ev := range emu.Events() {
		if n, ok := ev.Properties["seq"].(int64); ok {
			out[n]++
		}
	}
	return out
}

// TestEventsSentOnceAcrossRuns: a table becomes events by its tags, every row lands once, and the
// same sync run again sends nothing: each row is skipped as already sent.
func TestEventsSentOnceAcrossRuns(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), nil)
	const n = 300
	rec := activityRecord(n, 40, time.Now())
	defer rec.Release()
	w, werr, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{rec})
	require.NoError(t, werr)
	require.NoError(t, cerr)
	rep := w.Progress()
	assert.True(t, rep.Balanced(), rep.Summary())
	assert.EqualValues(t, n, rep.EventsSent)
	assert.Zero(t, rep.UsersSent)
	got := seqs(emu)
	require.Len(t, got, n)
	for s, c := range got {
		require.Equal(t, 1, c, "seq %d", s)
	}
	for _, ev := range emu.Events() { // a row's own values, and nothing else
		require.Len(t, ev.Properties, 1)
		require.Equal(t, []string{"signed_up", "upgraded"}[ev.Properties["seq"].(int64)%2], ev.Name)
	}

	requests := emu.Stats().Requests
	w2, werr, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{rec})
	require.NoError(t, werr)
	require.NoError(t, cerr)
	rep2 := w2.Progress()
	assert.EqualValues(t, n, rep2.RowsSkipped[reasonAlreadySent], rep2.Summary())
	assert.Zero(t, rep2.EventsSent)
	assert.True(t, rep2.Balanced())
	assert.Len(t, emu.Events(), n)
	assert.EqualValues(t, 1, emu.Stats().Requests-requests, "only the key check")
}

// TestEventsAmbiguousPolicies: Braze applies a request and the connection resets before the
// answer. Under dead_letter its rows are dead-lettered as possibly recorded (once in Braze, never
// re-sent by a later run); under retry they are resent and counted as ambiguous.
func TestEventsAmbiguousPolicies(t *testing.T) {
	const n = 120 // two requests of 75 and 45
	for _, policy := range []string{AmbiguousDeadLetter, AmbiguousRetry} {
		t.Run(policy, func(t *testing.T) {
			emu := startEmu(t, brazeemu.Options{})
			spec := testSpec(t, emu.URL(), map[string]any{"on_ambiguous_failure": policy, "concurrency": 1})
			emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultResetAfter, After: 1, Count: 1}) // the first track request after the key check
			rec := activityRecord(n, 30, time.Now())
			defer rec.Release()
			w, werr, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{rec})
			require.NoError(t, werr)
			require.NoError(t, cerr)
			rep := w.Progress()
			require.True(t, rep.Balanced(), rep.Summary())
			assert.EqualValues(t, 1, rep.AmbiguousRequests)
			assert.EqualValues(t, 75, rep.AmbiguousRows)
			dead := readDeadLetters(t, spec.DeadLetterFile)
			got := seqs(emu)
			if policy == AmbiguousRetry {
				assert.Empty(t, dead)
				assert.EqualValues(t, n, rep.EventsSent)
				twice := 0
				for _, c := range got {
					if c == 2 {
						twice++
					}
				}
				assert.Equal(t, 75, twice, "the resent request is recorded twice: at least once")
				return
			}
			require.Len(t, dead, 75)
			for _, l := range dead {
				assert.Equal(t, ReasonMayHaveRecorded, l.Reason)
				assert.Equal(t, "events", l.InputArray)
				assert.Contains(t, string(l.Object), `"name":`)
				assert.Nil(t, l.Attributes)
			}
			assert.EqualValues(t, n-75, rep.EventsSent)
			for s, c := range got {
				require.Equal(t, 1, c, "seq %d recorded twice", s)
			}
			assert.Len(t, got, n) // the reset came after Braze applied the request

			// A later run sends none of them: the ambiguous ones stay held.
			w2, _, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{rec})
			require.NoError(t, cerr)
			assert.EqualValues(t, n, w2.Progress().RowsSkipped[reasonAlreadySent])
			assert.Len(t, emu.Events(), n)
		})
	}
}

// TestEventMinorErrorIsForgotten: an object Braze refused by index was not recorded; its row is
// dead-lettered, its identity forgotten, and the next run sends that row alone.
func TestEventMinorErrorIsForgotten(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"concurrency": 1})
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultMinorErrors, InputArray: "events", Indexes: []int{3}, After: 1, Count: 1})
	rec := activityRecord(10, 10, time.Now())
	defer rec.Release()
	w, _, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{rec})
	require.NoError(t, cerr)
	assert.EqualValues(t, 9, w.Progress().EventsSent)
	dead := readDeadLetters(t, spec.DeadLetterFile)
	require.Len(t, dead, 1)
	assert.Equal(t, ReasonMinorError, dead[0].Reason)
	assert.EqualValues(t, 3, dead[0].Row)

	w2, _, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{rec})
	require.NoError(t, cerr)
	assert.EqualValues(t, 1, w2.Progress().EventsSent)
	assert.EqualValues(t, 9, w2.Progress().RowsSkipped[reasonAlreadySent])
	got := seqs(emu)
	require.Len(t, got, 10)
	for s, c := range got {
		require.Equal(t, 1, c, "seq %d", s)
	}
}

// TestEventWindowRefusesOldEvents: rows older than event_window are not sent, with their reason.
func TestEventWindowRefusesOldEvents(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"event_window": "2h"})
	now := time.Now().Truncate(time.Second)
	rec := activityRecord(180, 5, now) // one a minute: rows 121 to 179 are more than 2 hours old
	defer rec.Release()
	w, _, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{rec}, WithClock(func() time.Time { return now }))
	require.NoError(t, cerr)
	rep := w.Progress()
	assert.EqualValues(t, 121, rep.EventsSent) // row 120 is exactly 2h old: still inside
	assert.EqualValues(t, 59, rep.RowsSkipped[reasonOutsideWindow])
	assert.True(t, rep.Balanced(), rep.Summary())
	for s := range seqs(emu) {
		assert.LessOrEqual(t, s, int64(120))
	}
}

// TestEventsBesideAttributes: an attribute table and an event table in one run each go their own
// way, and event settings on an attribute table are refused.
func TestEventsBesideAttributes(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), nil)
	users := usersRecord("users", []userRow{{ID: str("u1"), Name: str("Ann")}, {ID: str("u2"), Name: str("Bob")}})
	defer users.Release()
	events := activityRecord(4, 2, time.Now())
	defer events.Release()
	w, werr, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{users, events})
	require.NoError(t, werr)
	require.NoError(t, cerr)
	rep := w.Progress()
	assert.EqualValues(t, 2, rep.UsersSent)
	assert.EqualValues(t, 4, rep.EventsSent)
	p, ok := emu.Profile("u1")
	require.True(t, ok)
	assert.Equal(t, "Ann", p.Custom["name"])
	assert.Len(t, p.Events, 2)
	assert.NotContains(t, fmt.Sprint(p.Events), "looker_export")

	bad := testSpec(t, emu.URL(), map[string]any{"tables": map[string]any{"users": map[string]any{"time_column": "AT"}}})
	_, werr, _ = run(t, bad, zerolog.Nop(), []arrow.Record{users})
	require.Error(t, werr)
	assert.True(t, IsConfigError(werr))
	assert.Contains(t, werr.Error(), "its kind is attributes")
}

// TestEventsNeedTheState: with diff off nothing would remember what was sent: refused.
func TestEventsNeedTheState(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"diff": false})
	rec := activityRecord(3, 3, time.Now())
	defer rec.Release()
	_, werr, _ := run(t, spec, zerolog.Nop(), []arrow.Record{rec})
	require.Error(t, werr)
	assert.True(t, IsConfigError(werr))
	assert.Contains(t, werr.Error(), "diff is false")
	assert.Empty(t, emu.Events())
}

// TestEventsDryRun: a dry run writes the events request it would send and records nothing: the
// real run after it sends every row.
func TestEventsDryRun(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	real := testSpec(t, emu.URL(), nil)
	rec := activityRecord(20, 5, time.Now())
	defer rec.Release()
	// A real run first, so the dry run reads an existing state folder; then new rows.
	_, _, cerr := run(t, real, zerolog.Nop(), []arrow.Record{rec})
	require.NoError(t, cerr)
	more := activityRecord(30, 5, time.Now().Add(time.Second)) // 30 new times: 30 new identities
	defer more.Release()
	dry := testSpec(t, emu.URL(), map[string]any{"dry_run": true, "state_dir": real.StateDir,
		"dry_run_file": filepath.Join(t.TempDir(), "plan.jsonl")})
	w, _, cerr := run(t, dry, zerolog.Nop(), []arrow.Record{more})
	require.NoError(t, cerr)
	plan, err := os.ReadFile(dry.DryRunFile)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(plan), `{"events":[{"external_id":`), "%.80s", plan)
	assert.EqualValues(t, 30, w.Progress().RowsSkipped["dry_run"])
	assert.Len(t, emu.Events(), 20)

	w2, _, cerr := run(t, real, zerolog.Nop(), []arrow.Record{more})
	require.NoError(t, cerr)
	assert.EqualValues(t, 30, w2.Progress().EventsSent, "the dry run recorded nothing")
}

// TestEventTableIgnoresDeleteStale: CloudQuery's end-of-table message is about labels, which an
// event table does not set.
func TestEventTableIgnoresDeleteStale(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), nil)
	rec := activityRecord(5, 5, time.Now())
	defer rec.Release()
	ctx := t.Context()
	w, err := NewWriter(ctx, spec, zerolog.Nop(), WithRetryPolicy(fastRetry))
	require.NoError(t, err)
	require.NoError(t, w.Write(ctx, rec))
	w.DeleteStale("activity")
	rep, err := w.Close(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 5, rep.EventsSent)
	assert.Zero(t, rep.UsersRemoved)
	assert.Empty(t, rep.Notes)
}

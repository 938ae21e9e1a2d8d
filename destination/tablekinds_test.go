package destination

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/destination/brazeapi"
)

// TestParseSpecTableKinds is a table of raw JSON specs for the event settings: every error names
// the table and the field, and the defaults are the documented ones.
func TestParseSpecTableKinds(t *testing.T) {
	const base = `{"api_key":"k","endpoint":"https://rest.iad-01.braze.com",`
	for _, tc := range []struct {
		name, json, wantErr string
	}{
		{"events table", `"tables":{"activity":{"kind":"events","name":"signed_up","time_column":"AT","id_column":"ID"}}`, ""},
		{"purchases table", `"tables":{"orders":{"kind":"purchases","product_id_column":"SKU","currency":"usd","price_column":"P"}}`, ""},
		{"kind from tags", `"tables":{"looks":{"key_column":"USER"}}`, ""},
		{"unknown kind", `"tables":{"t":{"kind":"event"}}`, `tables.t.kind: "event" is not one of`},
		{"unknown table field", `"tables":{"t":{"kind":"events","colour":"x"}}`, `unknown field "colour"`},
		{"both name and name_column", `"tables":{"t":{"kind":"events","name":"a","name_column":"N"}}`, "tables.t.name, name_column: set one of them"},
		{"bad currency", `"tables":{"t":{"kind":"purchases","currency":"dollars"}}`, `tables.t.currency: "dollars" is not an ISO 4217`},
		{"reserved property", `"tables":{"t":{"kind":"events","properties":{"A":"time"}}}`, `tables.t.properties: column "A": property name "time" is reserved`},
		{"event field on attributes", `"tables":{"t":{"kind":"attributes","time_column":"T"}}`, "tables.t.time_column: only for kind events or purchases"},
		{"empty table name", `"tables":{"":{"kind":"events"}}`, "tables: empty table name"},
		{"policy retry", `"on_ambiguous_failure":"retry"`, ""},
		{"policy unknown", `"on_ambiguous_failure":"ignore"`, `on_ambiguous_failure: "ignore" is not one of dead_letter, retry`},
		{"window", `"event_window":"2160h"`, ""},
		{"window too short", `"event_window":"30s"`, `event_window: "30s" is not a duration of at least 1h`},
		{"window in days", `"event_window":"30d"`, `event_window: "30d"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSpec([]byte(base + tc.json + "}"))
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, s)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.True(t, IsConfigError(err))
		})
	}
}

func TestTableKindsDefaults(t *testing.T) {
	s, err := ParseSpec([]byte(`{"api_key":"k","endpoint":"https://rest.iad-01.braze.com"}`))
	require.NoError(t, err)
	assert.Equal(t, AmbiguousDeadLetter, s.OnAmbiguousFailure)
	assert.Equal(t, brazeapi.AmbiguousDeadLetter, s.ambiguousPolicy())
	assert.Equal(t, 30*24*time.Hour, s.eventWindow())
}

// TestEventWindow checks the window's one rule: an identity is kept until its event's time plus
// the window, and exactly the events whose identity may be gone are refused.
func TestEventWindow(t *testing.T) {
	k := TableKinds{EventWindow: "720h"}
	run := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	edge := run.Add(-720 * time.Hour)
	for _, tc := range []struct {
		at      time.Time
		refused bool
	}{
		{edge.Add(-time.Millisecond), true},
		{edge, false},
		{run.Add(-1234 * time.Millisecond), false},
		{run.Add(48 * time.Hour), false}, // in the future: Braze records it as "now"
	} {
		assert.Equal(t, tc.refused, k.outsideWindow(tc.at.UnixMilli(), run), "event at %s", tc.at)
	}
	// For any later run: an event it would still accept has an identity the state still holds.
	at := run.Add(-1234 * time.Millisecond).UnixMilli()
	expiry := k.identityExpiry(at)
	for _, later := range []time.Duration{0, time.Hour, 719 * time.Hour, 720*time.Hour - time.Millisecond, 720 * time.Hour, 721 * time.Hour} {
		next := run.Add(later)
		if !k.outsideWindow(at, next) {
			assert.LessOrEqual(t, next.UnixMilli(), expiry*1000, "run %s accepts the event after its identity expired", later)
		}
	}
	assert.True(t, k.outsideWindow(at, time.Unix(expiry+1, 0)), "the identity is kept longer than needed")
}

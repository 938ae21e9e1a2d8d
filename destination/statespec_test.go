package destination

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStateSpec(t *testing.T) {
	const base = `"api_key":"k","endpoint":"https://rest.iad-01.braze.com"`
	const conn = `"account":"xy1","user":"BRAZESYNC","password":"state-secret-pw-93","warehouse":"WH"`
	for _, tc := range []struct {
		name, state string
		errs        []string // substrings of the error; none: valid
	}{
		{name: "default local", state: ``},
		{name: "explicit local", state: `,"state":{"backend":"local"}`},
		{name: "snowflake", state: `,"state":{"backend":"snowflake",` + conn + `,"database":"BRAZE"}`},
		{name: "unknown backend", state: `,"state":{"backend":"s3"}`, errs: []string{`state.backend: "s3" is not one of local, snowflake`}},
		{name: "connection without snowflake", state: `,"state":{` + conn + `}`, errs: []string{"are for backend: snowflake"}},
		{name: "no database", state: `,"state":{"backend":"snowflake",` + conn + `}`, errs: []string{"state.database: required"}},
		{name: "no credentials", state: `,"state":{"backend":"snowflake","account":"xy1","user":"U","warehouse":"WH","database":"D"}`,
			errs: []string{"state: no credentials"}},
		{name: "short lock timeout", state: `,"state":{"backend":"snowflake",` + conn + `,"database":"D","lock_timeout":"5s"}`,
			errs: []string{`state.lock_timeout: "5s"`}},
		{name: "diff off", state: `,"diff":false,"state":{"backend":"snowflake",` + conn + `,"database":"D"}`,
			errs: []string{"but diff is false"}},
		{name: "unknown field", state: `,"state":{"backend":"snowflake","databse":"D"}`, errs: []string{`unknown field "databse"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpec([]byte("{" + base + tc.state + "}"))
			if len(tc.errs) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.True(t, IsConfigError(err))
			for _, e := range tc.errs {
				require.Contains(t, err.Error(), e)
			}
			require.NotContains(t, err.Error(), "state-secret-pw-93")
		})
	}
	s, err := ParseSpec([]byte("{" + base + `,"state":{"backend":"snowflake",` + conn + `,"database":"BRAZE"}}`))
	require.NoError(t, err)
	require.Equal(t, "BRAZESYNC", s.State.Schema)
	require.Equal(t, "10m0s", s.State.LockTimeout)
	local, err := ParseSpec([]byte("{" + base + "}"))
	require.NoError(t, err)
	require.Equal(t, BackendLocal, local.State.Backend)
	require.Empty(t, local.State.Schema, "no warehouse defaults for the local backend")
}

// TestPushdownSettingsCarryNoSecret: what the lock row records for the source is the mapping, the
// flag and refresh_after; never the API key or the state's credentials.
func TestPushdownSettingsCarryNoSecret(t *testing.T) {
	s, err := ParseSpec([]byte(`{"api_key":"braze-secret-key-71","endpoint":"https://rest.iad-01.braze.com","refresh_after":"720h",
		"attributes":{"T":"tier"},"state":{"backend":"snowflake","account":"a","user":"u","password":"state-secret-pw-93","warehouse":"w","database":"d"}}`))
	require.NoError(t, err)
	p := pushdownSettings("braze", s)
	require.Equal(t, "rest.iad-01.braze.com", p.Endpoint)
	require.Equal(t, int64(720*3600), p.RefreshAfterSeconds)
	require.Equal(t, map[string]string{"T": "tier"}, p.Config.Attributes)
	require.Equal(t, "looker_export", p.ExportAttribute)
	text := strings.ToLower(fmtJSON(t, p))
	require.NotContains(t, text, "secret")
	s.FullRefresh = true
	require.NotEmpty(t, pushdownSettings("braze", s).Disabled)
}

func fmtJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

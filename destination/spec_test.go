package destination

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseSpec is a table of raw JSON specs: missing, null, wrong type and out-of-bounds values for
// each field, and unknown fields. wantErr is a substring of the error ("" means valid).
func TestParseSpec(t *testing.T) {
	const base = `"api_key":"k","endpoint":"https://rest.iad-01.braze.com"`
	spec := func(extra string) string {
		if extra == "" {
			return "{" + base + "}"
		}
		return "{" + base + "," + extra + "}"
	}
	for _, tc := range []struct {
		name, json, wantErr string
	}{
		{"minimal", spec(""), ""},
		{"empty document", ``, "api_key: required"},
		{"empty object", `{}`, "api_key: required"},
		{"missing endpoint", `{"api_key":"k"}`, "endpoint: required"},
		{"null api_key", `{"api_key":null,"endpoint":"x"}`, "api_key: required"},
		{"api_key wrong type", `{"api_key":1,"endpoint":"x"}`, "decoding spec"},
		{"unknown field", spec(`"batchsize":10`), `unknown field "batchsize"`},
		{"not an object", `[]`, "decoding spec"},
		{"trailing garbage", spec("") + "{}", "data after the spec object"},
		{"allow_custom_endpoint wrong type", spec(`"allow_custom_endpoint":"yes"`), "decoding spec"},
		{"batch_size null", spec(`"batch_size":null`), ""},
		{"refresh_after a duration", spec(`"refresh_after":"720h"`), ""},
		{"refresh_after zero", spec(`"refresh_after":"0"`), ""},
		{"refresh_after not a duration", spec(`"refresh_after":"30 days"`), `refresh_after: "30 days" is not a duration`},
		{"refresh_after negative", spec(`"refresh_after":"-1h"`), "refresh_after"},
		{"refresh_after under a second", spec(`"refresh_after":"10ms"`), "refresh_after: \"10ms\" is below 1s"},
		{"diff wrong type", spec(`"diff":"no"`), "decoding spec"},
		{"state_dir wrong type", spec(`"state_dir":1`), "decoding spec"},
		{"batch_size 1", spec(`"batch_size":1`), ""},
		{"batch_size 75", spec(`"batch_size":75`), ""},
		{"batch_size 76", spec(`"batch_size":76`), "batch_size: 76 is outside 1..75"},
		{"batch_size negative", spec(`"batch_size":-1`), "batch_size: -1"},
		{"batch_size wrong type", spec(`"batch_size":"10"`), "decoding spec"},
		{"batch_size fractional", spec(`"batch_size":1.5`), "decoding spec"},
		{"mau regime caps at 50", spec(`"batch_regime":"mau","batch_size":51`), "batch_size: 51 is outside 1..50"},
		{"mau regime 50", spec(`"batch_regime":"mau","batch_size":50`), ""},
		{"legacy regime", spec(`"batch_regime":"legacy"`), ""},
		{"unknown regime", spec(`"batch_regime":"bulk"`), "batch_regime"},
		{"max_request_bytes low", spec(`"max_request_bytes":1023`), "max_request_bytes: 1023"},
		{"max_request_bytes ok", spec(`"max_request_bytes":1024`), ""},
		{"concurrency 0 is default", spec(`"concurrency":0`), ""},
		{"concurrency 257", spec(`"concurrency":257`), "concurrency: 257"},
		{"concurrency negative", spec(`"concurrency":-3`), "concurrency: -3"},
		{"rate_limit -1 disables", spec(`"rate_limit":-1`), ""},
		{"rate_limit -2", spec(`"rate_limit":-2`), "rate_limit: -2"},
		{"rate_limit wrong type", spec(`"rate_limit":true`), "decoding spec"},
		{"rate_window bad", spec(`"rate_window":"3"`), `rate_window: "3"`},
		{"rate_window zero", spec(`"rate_window":"0s"`), "rate_window"},
		{"rate_window negative", spec(`"rate_window":"-1s"`), "rate_window"},
		{"request_timeout bad", spec(`"request_timeout":"soon"`), "request_timeout"},
		{"max_attempts 51", spec(`"max_attempts":51`), "max_attempts: 51"},
		{"max_attempts 1", spec(`"max_attempts":1`), ""},
		{"max_rejected_rows 0", spec(`"max_rejected_rows":0`), ""},
		{"max_rejected_rows -2", spec(`"max_rejected_rows":-2`), "max_rejected_rows: -2"},
		{"max_rejected_rows wrong type", spec(`"max_rejected_rows":"5"`), "decoding spec"},
		{"max_rejected_ratio 1", spec(`"max_rejected_ratio":1`), ""},
		{"max_rejected_ratio 1.5", spec(`"max_rejected_ratio":1.5`), "max_rejected_ratio: 1.5"},
		{"max_rejected_ratio negative", spec(`"max_rejected_ratio":-0.1`), "max_rejected_ratio"},
		{"export_attribute empty disables", spec(`"export_attribute":""`), ""},
		{"export_attribute with $", spec(`"export_attribute":"$x"`), "export_attribute"},
		{"export_value too long", spec(`"export_value":"` + strings.Repeat("v", 256) + `"`), "export_value"},
		{"update_existing_only wrong type", spec(`"update_existing_only":"false"`), "decoding spec"},
		{"user_key unknown", spec(`"user_key":"uid"`), "user_key"},
		{"dry_run", spec(`"dry_run":true`), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSpec([]byte(tc.json))
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, s)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.True(t, IsConfigError(err), "spec errors are configuration errors")
		})
	}
}

// TestSpecDefaults: every unset field gets its documented default.
func TestSpecDefaults(t *testing.T) {
	s, err := ParseSpec([]byte(`{"api_key":"k","endpoint":"rest.fra-01.braze.eu"}`))
	require.NoError(t, err)
	assert.Equal(t, 75, s.BatchSize)
	assert.Equal(t, RegimeCurrent, s.BatchRegime)
	assert.Equal(t, 3000, s.RateLimit)
	assert.Equal(t, "3s", s.RateWindow)
	assert.Equal(t, 16, s.Concurrency)
	assert.Equal(t, 8, s.MaxAttempts)
	assert.True(t, *s.UpdateExistingOnly)
	assert.Equal(t, "looker_export", *s.ExportAttribute)
	assert.Nil(t, s.MaxRejectedRows)
	assert.Nil(t, s.MaxRejectedRatio)
	m, err := ParseSpec([]byte(`{"api_key":"k","endpoint":"x","batch_regime":"mau"}`))
	require.NoError(t, err)
	assert.Equal(t, 50, m.BatchSize)
}

// TestSpecErrorsNameEveryField: several problems are all reported, each naming its field.
func TestSpecErrorsNameEveryField(t *testing.T) {
	_, err := ParseSpec([]byte(`{"batch_size":100,"concurrency":999,"rate_window":"x"}`))
	require.Error(t, err)
	for _, f := range []string{"api_key", "endpoint", "batch_size", "concurrency", "rate_window"} {
		assert.Contains(t, err.Error(), f+":", fmt.Sprintf("error names %s", f))
	}
}

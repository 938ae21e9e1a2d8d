package actionhub

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/destination"
)

func TestAuthorized(t *testing.T) {
	secret := []byte("0123456789abcdef")
	tok := Token(secret, "n")
	assert.True(t, authorized(secret, fmt.Sprintf("Token token=%q", tok)))
	assert.True(t, authorized(secret, fmt.Sprintf("token token=%q", tok)))
	for _, h := range []string{"", "foo", `Token token="x/abc"`, `Token token="n/"`, `Token token="/abc"`,
		fmt.Sprintf("Token token=%q", Token([]byte("other-secret-xxxxx"), "n")),
		fmt.Sprintf("Token token=%q extra", tok)} {
		assert.False(t, authorized(secret, h), h)
	}
}

// TestEndpointPolicy checks what the hub adds to brazeapi's shared policy: operator-listed hosts,
// sent the key as custom endpoints, over https only. (The shared verdicts have their own table test.)
func TestEndpointPolicy(t *testing.T) {
	p := newEndpointPolicy([]string{"braze-proxy.example.com", "Proxy2.example.com:8443"})
	cases := []struct {
		in, want string
		custom   bool
	}{
		{" https://rest.iad-01.braze.com/ ", "https://rest.iad-01.braze.com", false},
		{"https://REST.fra-02.braze.eu", "https://rest.fra-02.braze.eu", false},
		{"https://braze-proxy.example.com/", "https://braze-proxy.example.com", true},
		{"https://proxy2.example.com:8443", "https://proxy2.example.com:8443", true},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9000", false}, // loopback: the emulators
		{"http://braze-proxy.example.com", "", false},              // listed, but the key never travels in clear
		{"https://proxy2.example.com", "", false},                  // listed with another port
		{"https://attacker.example/x.braze.com", "", false},
		{"https://rest.iad-01.braze.com.evil.io", "", false},
		{"https://sdk.iad-01.braze.com", "", false},
		{"http://rest.iad-01.braze.com", "", false},
		{"https://u:p@rest.iad-01.braze.com", "", false},
	}
	for _, c := range cases {
		got, custom, err := p.clean(c.in)
		if c.want == "" {
			assert.Error(t, err, "%q should be refused", c.in)
			continue
		}
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
		assert.Equal(t, c.custom, custom, c.in)
	}
	ep, err := CheckEndpoint("https://braze-proxy.example.com", []string{"braze-proxy.example.com"})
	require.NoError(t, err)
	assert.Equal(t, "https://braze-proxy.example.com", ep)
	_, err = CheckEndpoint("https://braze-proxy.example.com", nil)
	assert.Error(t, err)
}

func TestVersionAtLeast(t *testing.T) {
	assert.True(t, versionAtLeast("7.3.00004561", [3]int{6, 2, 0}))
	assert.True(t, versionAtLeast("6.2", [3]int{6, 2, 0}))
	assert.False(t, versionAtLeast("6.1.99", [3]int{6, 2, 0}))
	assert.False(t, versionAtLeast("", [3]int{6, 2, 0}))
	assert.Equal(t, "7.3.1", lookerVersion("LookerOutgoingWebhook/7.3.1"))
}

func TestAttachmentForms(t *testing.T) {
	doc := `{"fields":{},"data":[]}`
	for name, raw := range map[string]string{
		"string": mustJSON(doc), "object": doc,
	} {
		a := &attachment{Mimetype: "application/json", Data: json.RawMessage(raw)}
		r, err := a.reader()
		require.NoError(t, err, name)
		b, _ := io.ReadAll(r)
		assert.JSONEq(t, doc, string(b), name)
	}
	a := &attachment{Mimetype: "application/json;base64", Data: json.RawMessage(mustJSON("eyJmaWVsZHMiOnt9LCJkYXRhIjpbXX0="))}
	r, err := a.reader()
	require.NoError(t, err)
	b, _ := io.ReadAll(r)
	assert.JSONEq(t, doc, string(b))
}

func mustJSON(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestPayloadValidation(t *testing.T) {
	p := newEndpointPolicy(nil)
	q := "query"
	cell := "cell"
	base := func() executePayload {
		return executePayload{Type: &q, Data: map[string]string{paramAPIKey: "k", paramEndpoint: "https://rest.iad-01.braze.com"},
			FormParams:    map[string]string{formKey: "external_id"},
			ScheduledPlan: &scheduledPlan{DownloadURL: "http://looker/x"}}
	}
	cases := map[string]struct {
		mut  func(*executePayload)
		want string
	}{
		"no type":      {func(e *executePayload) { e.Type = nil }, "No request type specified"},
		"cell":         {func(e *executePayload) { e.Type = &cell }, `does not support requests of type "cell"`},
		"no key":       {func(e *executePayload) { e.Data[paramAPIKey] = " " }, `"Braze API Key" not specified`},
		"no endpoint":  {func(e *executePayload) { delete(e.Data, paramEndpoint) }, `"Braze REST API Endpoint" not specified`},
		"bad endpoint": {func(e *executePayload) { e.Data[paramEndpoint] = "rest.notbraze.com" }, "Bad Endpoint"},
		"no braze_key": {func(e *executePayload) { delete(e.FormParams, formKey) }, "Missing primary Braze key"},
		"long label":   {func(e *executePayload) { e.FormParams[formSegment] = strings.Repeat("é", 256) }, "256 characters"},
		"no data":      {func(e *executePayload) { e.ScheduledPlan = nil }, "must have a download url or an attachment"},
		"null attached": {func(e *executePayload) {
			e.ScheduledPlan = nil
			e.Attachment = &attachment{Data: json.RawMessage("null")}
		}, "download url or an attachment"},
	}
	for name, c := range cases {
		pl := base()
		c.mut(&pl)
		_, f := pl.validate(p)
		require.NotNil(t, f, name)
		assert.Contains(t, f.message, c.want, name)
	}
	pl := base()
	r, f := pl.validate(p)
	require.Nil(t, f)
	assert.Equal(t, defaultExportLabel, r.exportLabel)
}

// The spec an execution's destination process receives survives the trip over Configure: it
// parses as the destination parses it, with every setting the execution and the hub gave.
func TestDestinationSpecOfAnExecution(t *testing.T) {
	s := &Server{cfg: Config{ReportDir: "runs", Destination: DestinationOptions{CreateUsers: true, Concurrency: 3, LongStrings: "truncate"}}}
	req := &request{apiKey: "key-1", endpoint: "https://proxy.example.com", customEndpoint: true, userKey: "braze_id", exportLabel: "VIP"}
	b, err := json.Marshal(s.destinationSpec(req, "run-1"))
	require.NoError(t, err)
	spec, err := destination.ParseSpec(b)
	require.NoError(t, err)
	assert.Equal(t, "key-1", spec.APIKey)
	assert.Equal(t, "https://proxy.example.com", spec.Endpoint)
	assert.True(t, spec.AllowCustomEndpoint)
	assert.Equal(t, "braze_id", spec.UserKey)
	assert.Equal(t, "truncate", spec.LongStrings)
	assert.Equal(t, "VIP", spec.ExportValue)
	assert.False(t, *spec.UpdateExistingOnly)
	assert.Equal(t, 3, spec.Concurrency)
	assert.False(t, *spec.Diff, "executions keep no sync state")
	assert.Equal(t, filepath.Join("runs", "run-1.dead-letter.jsonl"), spec.DeadLetterFile)

	s.cfg.Destination.LongStrings = "cut"
	assert.Error(t, s.checkDestinationOptions(), "a bad hub option fails at start")
}

func TestNewNeedsTheDestinationBinary(t *testing.T) {
	_, err := New(Config{Secret: []byte("0123456789abcdef"), DestinationPath: filepath.Join(t.TempDir(), "braze-destination")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--destination-path")
}

package actionhub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/actionhub"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/test/emutest"
)

func post(t *testing.T, url, auth, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp, b.Bytes()
}

func TestAuthorizationIsCheckedOnEveryRoute(t *testing.T) {
	e := setup(t, envOptions{rows: 1})
	good := actionhub.Token([]byte(testSecret), "abc")
	other := actionhub.Token([]byte("another-secret-0123456789"), "abc")
	nonce, mac, _ := strings.Cut(good, "/")
	bad := map[string]string{
		"missing":           "",
		"bare":              "foo",
		"short hmac":        `Token token="x/abc"`,
		"other secret":      fmt.Sprintf("Token token=%q", other),
		"no slash":          fmt.Sprintf("Token token=%q", nonce+mac),
		"other nonce":       fmt.Sprintf("Token token=%q", "abd/"+mac),
		"prefixed":          fmt.Sprintf("xToken token=%q", good),
		"pipe class":        fmt.Sprintf("|oken token=%q", good),
		"bearer":            "Bearer " + good,
		"empty nonce":       fmt.Sprintf("Token token=%q", "/"+mac),
		"truncated by one":  fmt.Sprintf("Token token=%q", good[:len(good)-1]),
		"secret as a token": fmt.Sprintf("Token token=%q", testSecret),
	}
	for _, path := range []string{"/", "/actions/braze", "/actions/braze/form", "/actions/braze/execute"} {
		for name, hdr := range bad {
			resp, body := post(t, e.hubURL+path, hdr, "{}")
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s", path, name)
			assert.JSONEq(t, `{"success":false,"error":"Invalid 'Authorization' header."}`, string(body))
		}
		resp, _ := post(t, e.hubURL+path, fmt.Sprintf("Token token=%q", good), "{}")
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
}

func TestTokenCommandPrintsAWorkingToken(t *testing.T) {
	t.Setenv("HUB_SECRET_FOR_TEST", testSecret)
	var out, errOut bytes.Buffer
	code := actionhub.Main(context.Background(), []string{"token", "--secret-env", "HUB_SECRET_FOR_TEST", "--nonce", "n1"}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	assert.Equal(t, actionhub.Token([]byte(testSecret), "n1")+"\n", out.String())
	assert.NotContains(t, out.String()+errOut.String(), testSecret)

	out.Reset()
	require.Equal(t, 0, actionhub.Main(context.Background(), []string{"token", "--secret-env", "HUB_SECRET_FOR_TEST"}, &out, &errOut))
	tok := strings.TrimSpace(out.String())
	e := setup(t, envOptions{rows: 1})
	resp, _ := post(t, e.hubURL+"/", fmt.Sprintf("Token token=%q", tok), "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	t.Setenv("HUB_SECRET_FOR_TEST", "")
	assert.Equal(t, 2, actionhub.Main(context.Background(), []string{"token", "--secret-env", "HUB_SECRET_FOR_TEST"}, &out, &errOut))
}

func TestListMatchesTheStockAction(t *testing.T) {
	e := setup(t, envOptions{rows: 1})
	d := e.def
	assert.Equal(t, "braze", d.Name)
	assert.Equal(t, "Braze", d.Label)
	assert.Equal(t, e.hubURL+"/actions/braze/execute", d.URL)
	require.NotNil(t, d.FormURL)
	assert.Equal(t, e.hubURL+"/actions/braze/form", *d.FormURL)
	require.Len(t, d.Params, 2)
	assert.Equal(t, "braze_api_key", d.Params[0]["name"])
	assert.Equal(t, true, d.Params[0]["sensitive"])
	assert.Equal(t, "braze_api_endpoint", d.Params[1]["name"])
	assert.Equal(t, false, d.Params[1]["sensitive"])
	assert.Equal(t, []map[string]any{{"tag": "braze_id"}}, d.RequiredFields)
	assert.Equal(t, []string{"query"}, d.SupportedActionTypes)
	assert.Equal(t, []string{"url"}, d.SupportedDownloadSetting)
	assert.Equal(t, []string{"unformatted"}, d.SupportedFormattings)
	assert.Equal(t, []string{"noapply"}, d.SupportedVisFormattings)
	assert.NotContains(t, d.Description, "100000")

	// Stock bug 17: Lookers from 6.2 get the format that streams without limit.
	assert.Equal(t, []string{"json_detail_lite_stream"}, d.SupportedFormats)
	old := *e.client
	old.LookerVersion = "5.5.0"
	list, _, err := old.List(context.Background())
	require.NoError(t, err)
	legacy, _ := list.Action("braze")
	assert.Equal(t, []string{"json_detail"}, legacy.SupportedFormats)
}

func TestFormMatchesTheStockForm(t *testing.T) {
	e := setup(t, envOptions{rows: 1})
	f, status, err := e.client.Form(context.Background(), e.def, e.data(), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, f.Fields, 3) // the stock two, then this hub's mirror-mode option (off by default)
	assert.Equal(t, "braze_key", f.Fields[0].Name)
	assert.Equal(t, "select", f.Fields[0].Type)
	assert.Equal(t, "external_id", f.Fields[0].Default)
	assert.Equal(t, []map[string]string{{"name": "external_id", "label": "external_id"}, {"name": "braze_id", "label": "braze_id"}}, f.Fields[0].Options)
	assert.Equal(t, "braze_segment", f.Fields[1].Name)
	assert.Equal(t, "LOOKER_EXPORT", f.Fields[1].Default)
	assert.True(t, f.Fields[1].Required)
	assert.Equal(t, "braze_mirror", f.Fields[2].Name)
	assert.Equal(t, "no", f.Fields[2].Default)
	assert.False(t, f.Fields[2].Required)

	f, _, err = e.client.Form(context.Background(), e.def, map[string]string{"braze_api_endpoint": e.brazeURL}, nil)
	require.NoError(t, err)
	assert.Equal(t, `Required setting "Braze API Key" not specified in action settings.`, f.Error)
}

// TestStockScenarioPayload is test_braze.ts's fixture (a braze_id field,
// braze[field_1]/braze[field_2] fields and an untagged one) checked down to
// the request body, which the stock test never looked at: it must be the
// /users/track payload the Braze docs describe for the action, the key in
// the Authorization header and not in the body.
func TestStockScenarioPayload(t *testing.T) {
	for _, via := range []string{"attachment", "download_url"} {
		t.Run(via, func(t *testing.T) {
			e := setup(t, envOptions{rows: 2, seed: true})
			var res *lookeremu.ActionResult
			if via == "attachment" {
				look, _ := e.looker.Look(lookeremu.LookScenario)
				doc, err := e.looker.JSONDetail(look.Query)
				require.NoError(t, err)
				res = e.sendDoc(doc, form("external_id", ""))
			} else {
				res = e.send(lookeremu.LookScenario, form("external_id", ""))
			}
			require.True(t, res.Success, res.Message)
			assert.Contains(t, res.Message, "2 rows read, 2 users sent")

			bodies, auths := e.rec.tracks()
			var tracks []string
			for i, b := range bodies {
				if bytes.Contains(b, []byte(`"attributes"`)) && bytes.Contains(b, []byte("user_")) {
					tracks = append(tracks, string(b))
					assert.Equal(t, "Bearer "+brazeKey, auths[i])
					assert.NotContains(t, string(b), brazeKey, "stock bug 5: the key must not travel in the body")
				}
			}
			require.Len(t, tracks, 1)
			assert.JSONEq(t, `{"attributes":[
				{"external_id":"user_0000000","field_1":"f1_0","field_2":0,"_update_existing_only":true,"looker_export":{"add":["LOOKER_EXPORT"]}},
				{"external_id":"user_0000001","field_1":"f1_1","field_2":1,"_update_existing_only":true,"looker_export":{"add":["LOOKER_EXPORT"]}}
			]}`, tracks[0])

			p, ok := e.braze.Profile("user_0000001")
			require.True(t, ok)
			assert.Equal(t, "f1_1", p.Custom["field_1"])
			assert.NotContains(t, p.Custom, "untagged")
			assert.Len(t, e.reports(), 1)
		})
	}
}

func TestKeepAliveNewlinesPrecedeTheAnswer(t *testing.T) {
	e := setup(t, envOptions{rows: 3, seed: true, hub: func(c *actionhub.Config) { c.KeepAlive = time.Millisecond }})
	// A download that takes a while: the hub must keep the connection busy.
	slow := emutest.Looker(t, func() lookeremu.Options {
		o := lookeremu.Seed(3)
		row := o.Views[0].Row
		o.Views[0].Row = func(i int) lookeremu.Values { time.Sleep(50 * time.Millisecond); return row(i) }
		return o
	}())
	look, _ := slow.Look(lookeremu.LookScenario)
	dl, err := slow.DownloadURL(look.Query)
	require.NoError(t, err)
	res, err := e.client.Execute(context.Background(), e.def, lookeremu.ExecutePayload{Type: "query",
		ScheduledPlan: &lookeremu.ScheduledPlan{DownloadURL: dl}, Data: e.data(), FormParams: form("external_id", "KA")})
	require.NoError(t, err)
	require.True(t, res.Success, res.Message)
	assert.Positive(t, res.KeepAlives)
	assert.True(t, json.Valid(res.Body))
}

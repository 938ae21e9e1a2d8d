package lookeremu_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/test/emutest"
)

func login(t *testing.T, s *lookeremu.Server, id, secret string) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(s.URL()+"/api/4.0/login", url.Values{"client_id": {id}, "client_secret": {secret}})
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func get(t *testing.T, u, auth string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestLoginAndTokens(t *testing.T) {
	s := emutest.Looker(t, lookeremu.Options{TokenTTL: time.Hour, Views: lookeremu.Seed(3).Views, Looks: lookeremu.Seed(3).Looks})
	resp, _ := login(t, s, "brazesync", "wrong")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, body := login(t, s, s.ClientID(), s.ClientSecret())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, float64(3600), body["expires_in"])
	tok := body["access_token"].(string)

	for _, style := range []string{"token ", "Bearer "} {
		resp, b := get(t, s.URL()+"/api/4.0/looks/1", style+tok)
		assert.Equal(t, http.StatusOK, resp.StatusCode, style)
		assert.Contains(t, string(b), `"users.external_id"`)
	}
	resp, _ = get(t, s.URL()+"/api/4.0/looks/1", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = get(t, s.URL()+"/api/4.0/looks/99", "token "+tok)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	s.FailNext(1, http.StatusTooManyRequests, "7")
	resp, _ = get(t, s.URL()+"/api/4.0/looks/1", "token "+tok)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "7", resp.Header.Get("Retry-After"))

	s.ExpireTokens()
	resp, _ = get(t, s.URL()+"/api/4.0/looks/1", "token "+tok)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, 1, s.Stats().Throttled)
}

func decode(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &doc))
	return doc
}

func TestRunLookJSONDetail(t *testing.T) {
	o := lookeremu.Seed(6000)
	// Look 9 has no saved limit, so Looker's default applies.
	o.Looks = append(o.Looks, lookeremu.Look{ID: 9, Query: lookeremu.Query{Model: "braze", View: "users", Fields: []string{"users.external_id"}}})
	s := emutest.Looker(t, o)
	_, body := login(t, s, s.ClientID(), s.ClientSecret())
	auth := "token " + body["access_token"].(string)

	count := func(limit string) int {
		u := s.URL() + "/api/4.0/looks/9/run/json_detail"
		if limit != "" {
			u += "?limit=" + limit
		}
		resp, b := get(t, u, auth)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var rows []map[string]map[string]any
		require.NoError(t, json.Unmarshal(decode(t, b)["data"], &rows))
		return len(rows)
	}
	assert.Equal(t, 5000, count(""), "Looker's default limit")
	assert.Equal(t, 6000, count("-1"))
	assert.Equal(t, 7, count("7"))

	resp, b := get(t, s.URL()+"/api/4.0/looks/1/run/json_detail?limit=2", auth)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	doc := decode(t, b)
	var fields struct {
		Dimensions []struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		} `json:"dimensions"`
	}
	require.NoError(t, json.Unmarshal(doc["fields"], &fields))
	assert.Equal(t, "users.external_id", fields.Dimensions[0].Name)
	assert.Equal(t, []string{"braze_id"}, fields.Dimensions[0].Tags)
	assert.Equal(t, []string{}, fields.Dimensions[3].Tags)
	assert.Less(t, bytes.Index(b, []byte(`"fields"`)), bytes.Index(b, []byte(`"data"`)))

	resp, _ = get(t, s.URL()+"/api/4.0/looks/1/run/csv", auth)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestInlineQueryPivotAndTableCalc(t *testing.T) {
	s := emutest.Looker(t, lookeremu.Seed(9))
	_, body := login(t, s, s.ClientID(), s.ClientSecret())
	auth := "token " + body["access_token"].(string)
	q := `{"model":"braze","view":"users","fields":["users.first_name","users.platform","sessions.count"],"pivots":["users.platform"],"limit":"-1"}`
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/api/4.0/queries/run/json_detail", strings.NewReader(q))
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	doc := decode(t, b)
	var pivots []struct{ Key string }
	require.NoError(t, json.Unmarshal(doc["pivots"], &pivots))
	assert.Len(t, pivots, 3)
	var rows []map[string]map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(doc["data"], &rows))
	assert.Len(t, rows, 8, "9 rows grouped by first name (8 names)")
	// Ann is rows 0 and 8: ios (count 1) and web (count 4).
	assert.JSONEq(t, `{"value":1}`, string(rows[0]["sessions.count"]["users.platform=ios"]))
	assert.JSONEq(t, `{"value":4}`, string(rows[0]["sessions.count"]["users.platform=web"]))
	assert.JSONEq(t, `{"value":null}`, string(rows[0]["sessions.count"]["users.platform=android"]))

	resp, b = get(t, s.URL()+"/api/4.0/looks/4/run/json_detail", auth)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(b), `"double_sessions":{"value":2}`)
	assert.Contains(t, string(b), `"tags":["braze[double_sessions]"]`)

	bad := `{"model":"braze","view":"users","fields":["users.nope"]}`
	req, _ = http.NewRequest(http.MethodPost, s.URL()+"/api/4.0/queries/run/json_detail", strings.NewReader(bad))
	req.Header.Set("Authorization", auth)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
}

func TestDownloadURLIsSingleUse(t *testing.T) {
	s := emutest.Looker(t, lookeremu.Seed(3))
	look, _ := s.Look(lookeremu.LookScenario)
	u, err := s.DownloadURL(look.Query)
	require.NoError(t, err)
	resp, b := get(t, u, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(b), "user_0000002")
	resp, _ = get(t, u, "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, 1, s.Stats().Downloads)
}

func TestDataBeforeFieldsOrder(t *testing.T) {
	o := lookeremu.Seed(2)
	o.DataBeforeFields = true
	s := emutest.Looker(t, o)
	look, _ := s.Look(lookeremu.LookScenario)
	doc, err := s.JSONDetail(look.Query)
	require.NoError(t, err)
	assert.Greater(t, strings.Index(doc, `"fields"`), strings.Index(doc, `"data"`))
	assert.True(t, json.Valid([]byte(doc)))
}

func TestMainServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int)
	t.Setenv("EMU_SECRET_TEST", "main-secret")
	go func() {
		done <- lookeremu.Main(ctx, []string{"--rows", "5", "--client-secret-env", "EMU_SECRET_TEST"}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "listening on http://127.0.0.1:"), line)
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	resp, err := http.PostForm(base+"/api/4.0/login", url.Values{"client_id": {"brazesync"}, "client_secret": {"main-secret"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	cancel()
	assert.Equal(t, 0, <-done)
	assert.NotContains(t, stderr.String(), "main-secret")
}

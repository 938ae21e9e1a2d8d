package actionhub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/plugin/actionhub"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

const (
	testSecret = "0123456789abcdef-test-secret"
	brazeKey   = "braze-test-key-123"
)

// recorder sits between the hub and the Braze emulator and keeps every
// /users/track request, so tests can read the exact payloads.
type recorder struct {
	mu       sync.Mutex
	bodies   [][]byte
	authHdrs []string
}

func (r *recorder) tracks() ([][]byte, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), append([]string(nil), r.authHdrs...)
}

type env struct {
	t         *testing.T
	braze     *brazeemu.Emulator
	looker    *lookeremu.Server
	hub       *actionhub.Server
	hubURL    string
	client    *lookeremu.HubClient
	def       lookeremu.ActionDefinition
	rec       *recorder
	brazeURL  string // the recorder's URL: what the admin enters as endpoint
	reportDir string
	logs      *testbin.Buffer // the hub's log: written by its goroutines, read by the test
}

type envOptions struct {
	rows   int
	seed   bool // seed Braze profiles for every seeded Looker user
	looker func(*lookeremu.Options)
	hub    func(*actionhub.Config)
	braze  func(*brazeemu.Options)
}

func setup(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, rec: &recorder{}, reportDir: t.TempDir(), logs: &testbin.Buffer{}}
	bo := brazeemu.Options{APIKeys: []string{brazeKey}}
	if o.braze != nil {
		o.braze(&bo)
	}
	e.braze = emutest.Braze(t, bo)
	if o.seed {
		profiles := make([]brazeemu.Profile, o.rows)
		for i := range profiles {
			profiles[i] = brazeemu.Profile{ExternalID: lookeremu.SeedRow(i)["users.external_id"].(string)}
		}
		e.braze.Seed(profiles...)
	}
	target, _ := url.Parse(e.braze.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/users/track" {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			e.rec.mu.Lock()
			e.rec.bodies = append(e.rec.bodies, b)
			e.rec.authHdrs = append(e.rec.authHdrs, r.Header.Get("Authorization"))
			e.rec.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	e.brazeURL = front.URL

	lo := lookeremu.Seed(o.rows)
	if o.looker != nil {
		o.looker(&lo)
	}
	e.looker = emutest.Looker(t, lo)

	cfg := actionhub.Config{
		Secret:          []byte(testSecret),
		ReportDir:       e.reportDir,
		DestinationPath: testbin.Path(t, "braze-destination"),
		Logger:          zerolog.New(e.logs),
	}
	if o.hub != nil {
		o.hub(&cfg)
	}
	hub, err := actionhub.New(cfg)
	require.NoError(t, err)
	e.hub = hub
	srv := httptest.NewServer(hub.Handler())
	t.Cleanup(srv.Close)
	e.hubURL = srv.URL
	e.client = &lookeremu.HubClient{URL: srv.URL, Token: actionhub.Token([]byte(testSecret), "nonce-1")}
	list, status, err := e.client.List(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	def, ok := list.Action("braze")
	require.True(t, ok)
	e.def = def
	return e
}

func (e *env) data() map[string]string {
	return map[string]string{"braze_api_key": brazeKey, "braze_api_endpoint": e.brazeURL}
}

func form(key, label string) map[string]string {
	return map[string]string{"braze_key": key, "braze_segment": label}
}

// send runs a seeded Look through the hub the way Looker schedules it.
func (e *env) send(lookID int, formParams map[string]string) *lookeremu.ActionResult {
	e.t.Helper()
	res, err := e.looker.SendLook(context.Background(), e.client, e.def, lookID, "", e.data(), formParams)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, res.Status)
	return res
}

// sendDoc posts a json_detail document inline as an attachment.
func (e *env) sendDoc(doc string, formParams map[string]string) *lookeremu.ActionResult {
	e.t.Helper()
	res, err := e.client.Execute(context.Background(), e.def, lookeremu.ExecutePayload{
		Type: "query", Attachment: &lookeremu.Attachment{Mimetype: "application/json", Extension: "json", Data: doc},
		Data: e.data(), FormParams: formParams})
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, res.Status)
	return res
}

// reports reads every run report the hub wrote.
func (e *env) reports() []report.Report {
	e.t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.reportDir, "*.json"))
	var out []report.Report
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(e.t, err)
		var r report.Report
		require.NoError(e.t, json.Unmarshal(b, &r))
		out = append(out, r)
	}
	return out
}

// attributes decodes every attribute object sent to /users/track.
func (e *env) attributes() []map[string]any {
	e.t.Helper()
	bodies, _ := e.rec.tracks()
	var out []map[string]any
	for _, b := range bodies {
		var req struct {
			Attributes []map[string]any `json:"attributes"`
		}
		require.NoError(e.t, json.Unmarshal(b, &req))
		out = append(out, req.Attributes...)
	}
	return out
}

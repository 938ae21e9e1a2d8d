// Package policy holds the tests that hold the front doors to one policy: the same endpoint is
// accepted or refused by the destination, by `brazesync check` and by the Looker Action Hub.
package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/actionhub"
	"github.com/brazesync/brazesync/plugin/check"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
)

// endpointCases are typed by hand from docs/braze-api.md §6, not read from the
// code's table, so a host dropped from (or added to) the table fails here.
var endpointCases = []struct {
	raw    string
	custom bool // allow_custom_endpoint for the destination and check; the host itself for the hub
	want   bool // accepted
}{
	// Every published REST host, over https.
	{"https://rest.iad-01.braze.com", false, true},
	{"https://rest.iad-02.braze.com", false, true},
	{"https://rest.iad-03.braze.com", false, true},
	{"https://rest.iad-04.braze.com", false, true},
	{"https://rest.iad-05.braze.com", false, true},
	{"https://rest.iad-06.braze.com", false, true},
	{"https://rest.iad-07.braze.com", false, true},
	{"https://rest.iad-08.braze.com", false, true},
	{"https://rest.us-10.braze.com", false, true},
	{"https://rest.fra-01.braze.eu", false, true},
	{"https://rest.fra-02.braze.eu", false, true},
	{"https://rest.au-01.braze.com", false, true},
	{"https://rest.id-01.braze.com", false, true},
	{"https://rest.jp-01.braze.com", false, true},
	{"https://rest.kr-01.braze.com", false, true},
	// Written loosely: a bare host, capitals, a trailing slash, surrounding space, the default port.
	{"rest.fra-02.braze.eu", false, true},
	{" https://REST.IAD-01.Braze.com/ ", false, true},
	{"https://rest.iad-01.braze.com:443", false, true},
	// Look like Braze hosts and are not: no US-09 or US-11, the retired iad-10 spelling, SDK and
	// dashboard hosts, look-alike domains.
	{"https://rest.iad-09.braze.com", false, false},
	{"https://rest.us-11.braze.com", false, false},
	{"https://rest.iad-10.braze.com", false, false},
	{"https://sdk.iad-01.braze.com", false, false},
	{"https://dashboard-01.braze.com", false, false},
	{"https://rest.iad-01.braze.com.evil.example", false, false},
	{"https://evil.example/rest.iad-01.braze.com", false, false},
	{"https://rest.iad-01.braze.co", false, false},
	// A published host used wrongly: clear text, another port, a path, credentials, a query.
	{"http://rest.iad-01.braze.com", false, false},
	{"https://rest.iad-01.braze.com:8443", false, false},
	{"https://rest.iad-01.braze.com/users/track", false, false},
	{"https://user:pw@rest.iad-01.braze.com", false, false},
	{"https://rest.iad-01.braze.com?api_key=x", false, false},
	{"ftp://rest.iad-01.braze.com", false, false},
	{"", false, false},
	// Loopback (the emulators), over http or https, without any allowance.
	{"http://localhost:8710", false, true},
	{"http://127.0.0.1:8710", false, true},
	{"https://127.0.0.1:8710", false, true},
	{"http://[::1]:8710", false, true},
	// Any other host only when explicitly allowed, and then only over https.
	{"https://proxy.example.com", false, false},
	{"https://proxy.example.com", true, true},
	{"https://rest.us-11.braze.com", true, true},
	{"http://proxy.example.com", true, false},
	{"http://10.0.0.5:8080", true, false},
}

// TestEndpointPolicyIsOneAcrossFrontDoors runs every host through the destination (spec, then
// opening the writer, which is where the key would first be sent), the check command's endpoint
// line and the Action Hub's execute validation. Each must give the expected verdict; a door that
// accepts must send the key to that host and nowhere else. No request leaves the machine: the
// destination's and the check's HTTP transport answers as Braze answers the key check, and the
// hub's destination process exits before dialling.
func TestEndpointPolicyIsOneAcrossFrontDoors(t *testing.T) {
	for _, c := range endpointCases {
		name := fmt.Sprintf("%q custom=%v", c.raw, c.custom)
		t.Run(name, func(t *testing.T) {
			doors := []struct {
				name   string
				accept func(*testing.T, string, bool) bool
			}{
				{"destination", destinationAccepts}, {"check", checkAccepts}, {"action hub", hubAccepts},
			}
			for _, d := range doors {
				if got := d.accept(t, c.raw, c.custom); got != c.want {
					t.Errorf("%s: accepted=%v, want %v", d.name, got, c.want)
				}
			}
		})
	}
}

// destinationAccepts parses the spec and opens a write session, as braze-destination does.
func destinationAccepts(t *testing.T, raw string, custom bool) bool {
	rec := &brazeAnswers{}
	spec, err := destination.ParseSpec(mustJSON(t, map[string]any{"api_key": testKey, "endpoint": raw,
		"allow_custom_endpoint": custom, "dead_letter_file": filepath.Join(t.TempDir(), "dead.jsonl"), "state_dir": t.TempDir()}))
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := destination.Open(ctx, spec, zerolog.Nop(), "policy", destination.WithHTTPClient(rec.client()))
	if err != nil {
		if !destination.IsConfigError(err) {
			t.Errorf("destination: refusal is not a configuration error: %v", err)
		}
		rec.assertNone(t, "destination")
		return false
	}
	if _, err := s.Finish(ctx, nil); err != nil {
		t.Errorf("destination: finishing an empty run: %v", err)
	}
	rec.assertOnly(t, "destination", raw)
	return true
}

// checkAccepts runs `brazesync check` on a spec holding the destination and reads its endpoint line.
func checkAccepts(t *testing.T, raw string, custom bool) bool {
	rec := &brazeAnswers{}
	path := filepath.Join(t.TempDir(), "spec.yml")
	doc := fmt.Sprintf(`kind: source
spec: {name: files, path: %q, registry: local, tables: ["*"], destinations: [braze]}
---
kind: destination
spec:
  name: braze
  path: bin/braze-destination
  registry: local
  spec: {api_key: %q, endpoint: %q, allow_custom_endpoint: %v}
`, filepath.Join(t.TempDir(), "no-source"), testKey, raw, custom)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	res := check.Run(context.Background(), check.Options{SpecFiles: []string{path}, Log: zerolog.Nop(),
		Timeout: 30 * time.Second, HTTPClient: rec.client()})
	line, ok := res.Find("braze: endpoint")
	if !ok || line.Status == check.Fail {
		rec.assertNone(t, "check")
		return false
	}
	rec.assertOnly(t, "check", raw)
	return true
}

// hubAccepts sends an execute request as Looker does. An accepted endpoint makes the hub start its
// destination process, the first step that would send the key; here that "binary" is false(1),
// which exits at once, so nothing is dialled. The hub's run report says which endpoint it accepted.
func hubAccepts(t *testing.T, raw string, custom bool) bool {
	var extra []string
	if custom {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		extra = []string{u.Host}
	}
	noDestination, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false(1) to stand in for the destination binary")
	}
	reports := t.TempDir()
	hub, err := actionhub.New(actionhub.Config{Secret: []byte(hubSecret), ReportDir: reports,
		AllowedEndpointHosts: extra, DestinationPath: noDestination, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hub.Handler())
	defer srv.Close()
	lk := &lookeremu.HubClient{URL: srv.URL, Token: actionhub.Token([]byte(hubSecret), "policy-nonce")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, _, err := lk.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	def, ok := list.Action(actionhub.ActionName)
	if !ok {
		t.Fatal("the hub lists no braze action")
	}
	res, err := lk.Execute(ctx, def, lookeremu.ExecutePayload{Type: "query",
		Attachment: &lookeremu.Attachment{Mimetype: "application/json", Extension: "json", Data: jsonDetail},
		Data:       map[string]string{"braze_api_key": testKey, "braze_api_endpoint": raw},
		FormParams: map[string]string{"braze_key": "external_id"}})
	if err != nil {
		t.Fatal(err)
	}
	endpoint, accepted := acceptedEndpoint(t, reports)
	if !accepted {
		return false
	}
	if want := hostOf(t, raw); hostOf(t, endpoint) != want {
		t.Errorf("action hub: delivers to %s, want %s", hostOf(t, endpoint), want)
	}
	if strings.Contains(fmt.Sprint(res), testKey) {
		t.Error("action hub: the API key is in the answer")
	}
	return true
}

// acceptedEndpoint reads the hub's run report: a validated execution notes its Braze endpoint.
func acceptedEndpoint(t *testing.T, dir string) (string, bool) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("action hub: %d run reports, want 1", len(files))
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var rep struct{ Notes []string }
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	for _, n := range rep.Notes {
		if ep, ok := strings.CutPrefix(n, "braze endpoint: "); ok {
			return ep, true
		}
	}
	return "", false
}

const (
	testKey    = "policy-test-key-8c1d"
	hubSecret  = "policy-hub-secret-0123456789"
	jsonDetail = `{"fields":{"dimensions":[{"name":"users.id","tags":["braze_id"]}]},"data":[]}`
)

// brazeAnswers is the HTTP transport of the destination and the check: it records each request's
// host and answers an empty /users/track as Braze does (400: the key is good, nothing written), and
// anything else with 404. Nothing is dialled.
type brazeAnswers struct {
	mu    sync.Mutex
	hosts []string
}

func (b *brazeAnswers) client() *http.Client { return &http.Client{Transport: b} }

func (b *brazeAnswers) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	b.mu.Lock()
	b.hosts = append(b.hosts, r.URL.Host)
	b.mu.Unlock()
	status, body := http.StatusNotFound, `{"message":"Not Found"}`
	if r.URL.Path == "/users/track" {
		status, body = http.StatusBadRequest, `{"message":"Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."}`
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func (b *brazeAnswers) assertNone(t *testing.T, door string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.hosts) > 0 {
		t.Errorf("%s: refused the endpoint but sent %d request(s) to %v", door, len(b.hosts), b.hosts)
	}
}

func (b *brazeAnswers) assertOnly(t *testing.T, door, raw string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	want := hostOf(t, raw)
	if len(b.hosts) == 0 {
		t.Errorf("%s: accepted the endpoint but never checked the key", door)
	}
	for _, h := range b.hosts {
		if h != want {
			t.Errorf("%s: sent the key to %s, want only %s", door, h, want)
		}
	}
}

// hostOf is the host an accepted endpoint is reached at: lower-case, without the default port.
func hostOf(t *testing.T, raw string) string {
	t.Helper()
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	return strings.TrimSuffix(strings.ToLower(u.Host), ":443")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

package check_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/plugin/check"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/source/looker"
	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

const (
	goodKey   = "check-good-key-1c9e"
	readOnly  = "check-ro-key-77f0" // users.export.ids only
	testUser  = "u-existing"
	lookerSec = "check-looker-secret"
)

// world is one set of emulators: Braze (behind a front that adds GET /custom_attributes, which the
// emulator does not implement, answered in the documented shape), Looker and Snowflake.
type world struct {
	braze      *brazeemu.Emulator
	brazeURL   string // the front
	plainURL   string // the emulator alone, without /custom_attributes
	looker     *lookeremu.Server
	snowflake  *snowflakeemu.Emulator
	exportType string // data_type the front reports for looker_export
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{exportType: "Array"}
	w.braze = brazeemu.New(brazeemu.Options{APIKeys: []string{goodKey},
		KeyPermissions: map[string][]string{readOnly: {brazeemu.PermUsersExportIDs}}})
	w.braze.Seed(brazeemu.Profile{ExternalID: testUser})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /custom_attributes", func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+goodKey {
			http.Error(rw, `{"message":"Invalid API key"}`, http.StatusUnauthorized)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(rw, `{"message":"success","attributes":[{"name":"ltv","data_type":"Number","status":"Active"},`+
			`{"name":"looker_export","data_type":%q,"status":"Active","array_length":500}]}`, w.exportType)
	})
	mux.Handle("/", w.braze)
	front := httptest.NewServer(mux)
	t.Cleanup(front.Close)
	plain := httptest.NewServer(w.braze)
	t.Cleanup(plain.Close)
	w.brazeURL, w.plainURL = front.URL, plain.URL

	lo := lookeremu.Seed(20)
	lo.ClientSecret = lookerSec
	w.looker = emutest.Looker(t, lo)

	sf, err := snowflakeemu.NewStarted(snowflakeemu.Options{Password: "sf-pass"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sf.Close() })
	if err := sf.SeedAllTypes(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.snowflake = sf
	return w
}

// destination is the Braze destination document; endpoint and key vary per case.
const destinationDoc = `
---
kind: destination
spec:
  name: braze
  path: {{BIN}}/braze-destination
  registry: local
  spec:
    api_key: %q
    endpoint: %q
    export_value: CHECK
`

func fileSource(csvPath, tags string) string {
	return fmt.Sprintf(`
kind: source
spec:
  name: files
  path: {{BIN}}/file-source
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec:
    files:
      - path: %q
%s`, csvPath, tags)
}

func (w *world) lookerSource(lookID int) string {
	return testbin.LookerSource(looker.Spec{BaseURL: w.looker.URL(), ClientID: w.looker.ClientID(), ClientSecret: lookerSec,
		Tables: []looker.TableSpec{{Name: "look", LookID: lookID}}})
}

func (w *world) snowflakeSource() string {
	host, port := w.snowflake.HostPort()
	o := w.snowflake.Options()
	return testbin.SnowflakeSource(snowflake.Spec{Account: o.Account, User: o.User, Password: "sf-pass", Warehouse: "COMPUTE_WH",
		Role: "SYNC_ROLE", Host: host, Port: port, Protocol: "http", LoginTimeoutSeconds: 10,
		Queries: []snowflake.Query{{Name: "buyers",
			SQL: `SELECT 'sf_' || ID AS EXTERNAL_ID, NAME AS "braze[first_name]", AMOUNT AS "braze[ltv]" FROM ALL_TYPES`}}})
}

// run writes the spec and checks it as `brazesync check` does, through the real plugin binaries.
func run(t *testing.T, spec, testUserID string) *check.Result {
	t.Helper()
	dir := t.TempDir()
	spec = strings.ReplaceAll(spec, "{{BIN}}", testbin.Dir(t))
	path := filepath.Join(dir, "spec.yml")
	if err := os.WriteFile(path, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := check.Run(ctx, check.Options{SpecFiles: []string{path}, TestUser: testUserID,
		Log: zerolog.New(io.Discard), Timeout: time.Minute})
	var out strings.Builder
	res.Print(&out)
	t.Logf("brazesync check:\n%s", out.String())
	return res
}

func writeCSV(t *testing.T, header string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "users.csv")
	body := header + "\n" + strings.Repeat("x", 0)
	cols := len(strings.Split(header, ","))
	for i := 0; i < 3; i++ {
		row := make([]string, cols)
		for c := range row {
			row[c] = fmt.Sprintf("v%d_%d", i, c)
		}
		body += strings.Join(row, ",") + "\n"
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCorrectSpecsPassEveryLine: a correct spec for each source passes every line, including the
// optional test-user and export-attribute checks, and exits 0.
func TestCorrectSpecsPassEveryLine(t *testing.T) {
	w := newWorld(t)
	good := writeCSV(t, "user_id,first_name,ltv")
	tags := `        tags: {user_id: [braze_id], first_name: ["braze[first_name]"], ltv: ["braze[ltv]"]}`
	dest := fmt.Sprintf(destinationDoc, goodKey, w.brazeURL)
	cases := map[string]string{
		"file":      fileSource(good, tags) + dest,
		"looker":    w.lookerSource(lookeremu.LookTyped) + dest,
		"snowflake": w.snowflakeSource() + dest,
	}
	for name, spec := range cases {
		t.Run(name, func(t *testing.T) {
			res := run(t, spec, testUser)
			for _, l := range res.Lines {
				if l.Status != check.Pass {
					t.Errorf("%s %s: %s", l.Status, l.Name, l.Detail)
				}
			}
			for _, want := range []string{"spec", "braze: endpoint", "braze: api key", "braze: users.track",
				"braze: test user", "braze: export attribute"} {
				if _, ok := res.Find(want); !ok {
					t.Errorf("line %q missing", want)
				}
			}
			if len(res.Lines) < 10 || res.ExitCode() != 0 {
				t.Errorf("%d lines, exit %d", len(res.Lines), res.ExitCode())
			}
		})
	}
}

// TestBrokenVariantsFailTheirOwnLine: each broken variant fails exactly one line, its own, with a
// fix; every other line passes or is skipped because of it.
func TestBrokenVariantsFailTheirOwnLine(t *testing.T) {
	w := newWorld(t)
	good := writeCSV(t, "user_id,first_name,ltv")
	goodTags := `        tags: {user_id: [braze_id], first_name: ["braze[first_name]"], ltv: ["braze[ltv]"]}`
	noKey := writeCSV(t, "id,braze[first_name]")
	twoKeys := writeCSV(t, "a,b,braze[first_name]")
	dest := func(key, endpoint string) string { return fmt.Sprintf(destinationDoc, key, endpoint) }
	cases := []struct {
		name, spec, testUser, line, detail, fix string
	}{
		{"wrong key", fileSource(good, goodTags) + dest("not-a-key", w.brazeURL), "",
			"braze: api key", "answered 401", "Settings > APIs and Identifiers"},
		{"key without users.track", fileSource(good, goodTags) + dest(readOnly, w.brazeURL), "",
			"braze: users.track", "403", "users.track permission"},
		{"wrong host", fileSource(good, goodTags) + dest(goodKey, "https://rest.iad-01.braze.co"), "",
			"braze: endpoint", "not a Braze REST host", "rest.iad-01.braze.com"},
		{"plain http host", fileSource(good, goodTags) + dest(goodKey, "http://rest.iad-01.braze.com"), "",
			"braze: endpoint", "must use https", "over https"},
		{"no key column", fileSource(noKey, "") + dest(goodKey, w.brazeURL), "",
			"files/users -> braze: key column", "no key column", "braze_id"},
		{"two key columns", fileSource(twoKeys, `        tags: {a: [braze_id], b: [braze_id]}`) + dest(goodKey, w.brazeURL), "",
			"files/users -> braze: key column", "two key columns", "remove the braze_id tag"},
		{"pivoted Look", w.lookerSource(lookeremu.LookPivoted) + dest(goodKey, w.brazeURL), "",
			"looker/look -> braze: pivots", "pivoted", "remove the pivot"},
		{"unknown test user", fileSource(good, goodTags) + dest(goodKey, w.brazeURL), "nobody-here",
			"braze: test user", "no user with external_id", "case-sensitive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, c.spec, c.testUser)
			var failed []check.Line
			for _, l := range res.Lines {
				if l.Status == check.Fail {
					failed = append(failed, l)
				}
			}
			if len(failed) != 1 || failed[0].Name != c.line {
				t.Fatalf("want exactly line %q to fail, got %+v", c.line, failed)
			}
			if !strings.Contains(failed[0].Detail, c.detail) || !strings.Contains(failed[0].Fix, c.fix) {
				t.Errorf("line %+v: want detail ~%q and fix ~%q", failed[0], c.detail, c.fix)
			}
			if res.ExitCode() != check.ExitFailed {
				t.Errorf("exit %d, want %d", res.ExitCode(), check.ExitFailed)
			}
			if strings.Contains(fmt.Sprint(res.Lines), goodKey) {
				t.Errorf("the API key appears in the output")
			}
		})
	}
}

// TestExportAttributeType: an export attribute of another type fails its line; where
// /custom_attributes is not served (the plain emulator), the line warns "could not check".
func TestExportAttributeType(t *testing.T) {
	w := newWorld(t)
	good := writeCSV(t, "user_id,first_name")
	src := fileSource(good, `        tags: {user_id: [braze_id], first_name: ["braze[first_name]"]}`)
	w.exportType = "String"
	res := run(t, src+fmt.Sprintf(destinationDoc, goodKey, w.brazeURL), "")
	if l, _ := res.Find("braze: export attribute"); l.Status != check.Fail || !strings.Contains(l.Detail, "String attribute") {
		t.Errorf("wrong type: %+v", l)
	}
	res = run(t, src+fmt.Sprintf(destinationDoc, goodKey, w.plainURL), "")
	if l, _ := res.Find("braze: export attribute"); l.Status != check.Warn || !strings.Contains(l.Detail, "could not check") {
		t.Errorf("no /custom_attributes: %+v", l)
	}
	if res.ExitCode() != 0 {
		t.Errorf("a warning must not fail the check: exit %d", res.ExitCode())
	}
}

// TestInvalidSpecExitsConfig: a spec that cannot load is one failed line and exit code 2.
func TestInvalidSpecExitsConfig(t *testing.T) {
	res := run(t, "kind: source\nspec:\n  name: x\n  bogus_field: 1\n", "")
	if res.ExitCode() != check.ExitConfig || len(res.Lines) != 1 || !strings.Contains(res.Lines[0].Detail, "bogus_field") {
		t.Errorf("got exit %d, %+v", res.ExitCode(), res.Lines)
	}
}

package inpute2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// corpusCase is one ugly input file. rows is what the oracle reads from it; dead names the rows
// that must end in the dead-letter file, each with a text its reason or detail contains; skipped
// the rows skipped for their key. Every other row must be delivered with its own values.
type corpusCase struct {
	name    string
	file    string // file name; its extension gives the format
	body    []byte
	rows    []srcRow
	dead    map[int]string
	skipped map[int]string
	// planted are values that may reach the dead-letter file (in a refused key) but never the log
	// or the report.
	planted []string
}

const keyCol = "external_id"

func csvCase(name, body string, dead, skipped map[int]string) corpusCase {
	return corpusCase{name: name, file: name + ".csv", body: []byte(body), rows: readCSV([]byte(body), keyCol), dead: dead, skipped: skipped}
}

func ndjsonCase(name, body string, dead, skipped map[int]string) corpusCase {
	return corpusCase{name: name, file: name + ".ndjson", body: []byte(body), rows: readNDJSON([]byte(body), keyCol), dead: dead, skipped: skipped}
}

// corpus builds the ugly inputs of issue 19, and more.
func corpus() []corpusCase {
	var cases []corpusCase
	lines := func(header string, n int, row func(i int) string) string {
		var b strings.Builder
		b.WriteString(header + "\n")
		for i := 0; i < n; i++ {
			b.WriteString(row(i) + "\n")
		}
		return b.String()
	}
	// The three CSV cases: a value past the first rows never becomes a default.
	cases = append(cases,
		csvCase("ltv_float_after_int", lines("external_id,braze[ltv]", 1000, func(i int) string {
			if i == 0 {
				return "ltv_0,100"
			}
			return fmt.Sprintf("ltv_%d,%d.%02d", i, i, i%100)
		}), nil, nil),
		csvCase("int_then_fraction", lines("external_id,braze[visits]", 1500, func(i int) string {
			if i == 1200 {
				return fmt.Sprintf("visits_%d,3.7", i)
			}
			return fmt.Sprintf("visits_%d,%d", i, i)
		}), nil, nil),
		csvCase("date_then_zero_date", lines("external_id,braze[since]", 1500, func(i int) string {
			if i == 1300 {
				return fmt.Sprintf("since_%d,0000-00-00", i)
			}
			return fmt.Sprintf("since_%d,2024-%02d-%02d", i, i%12+1, i%28+1)
		}), nil, nil),
	)
	// Late surprises, CSV: header only, trailing blank lines, an overflowing float, a BOM, rows
	// with the wrong number of fields or a stray quote, leading zeros, long and invalid strings.
	cases = append(cases,
		csvCase("header_only", "external_id,braze[a]\n", nil, nil),
		csvCase("blank_lines", "external_id,braze[a]\nblank_1,1\n\n\nblank_2,2\n\n", nil, nil),
		csvCase("float_overflow", "external_id,braze[amount]\nover_1,1.5\nover_2,1e400\nover_3,2.25\nover_4,12345678901234567890.5\n",
			map[int]string{1: "64-bit float"}, nil),
		csvCase("bom_and_bad_rows", "\ufeffexternal_id,braze[a],braze[b]\nbad_1,1,x\nbad_2,2\nbad_3,3,y,extra\nbad_4,4,z\"q\nbad_5,5,w\n",
			map[int]string{1: "fields", 2: "fields", 3: "quote"}, nil),
		csvCase("zips_and_text", "external_id,braze[zip],braze[note]\nzip_1,00123,+5\nzip_2,99501,.5\nzip_3,10001,1e5x\n", nil, nil),
		csvCase("bad_strings", "external_id,braze[s]\nstr_1,fine\nstr_2,"+strings.Repeat("é", 256)+"\nstr_3,a\xffb\nstr_4,ok\n",
			map[int]string{1: "255", 2: "UTF-8"}, nil),
	)
	// Keys are never altered: invalid UTF-8, NUL and other control characters, and over-long keys
	// are refused here; null, empty and blank keys are skipped.
	keys := corpusCase{name: "bad_keys", file: "bad_keys.csv",
		body: []byte("external_id,braze[a]\nkey_ok,1\nu\xfe2,2\nu\x002,3\n\"tab\tkey\",4\n" + strings.Repeat("k", 1_000_000) + ",5\n" +
			strings.Repeat("k", 256) + ",6\n,7\n\"  \",8\n" + strings.Repeat("é", 255) + ",9\nPLANTED-u\x01id,10\n"),
		dead:    map[int]string{1: "UTF-8", 2: "control", 3: "control", 4: "longer than 255", 5: "longer than 255", 9: "control"},
		skipped: map[int]string{6: "null_key", 7: "blank_key"}, planted: []string{"PLANTED-u"}}
	keys.rows = readCSV(keys.body, keyCol)
	cases = append(cases, keys)
	// Values that identify a person must never reach a log or the report.
	pii := csvCase("pii_in_bad_cells", "external_id,braze[email],braze[n]\npii_1,PLANTED-jane.doe@example,1\npii_2,ok@example.com,2\npii_3,PLANTED-x\xff@example.com,3\n",
		map[int]string{0: "email", 2: "UTF-8"}, nil)
	pii.planted = []string{"PLANTED-jane", "PLANTED-x"}
	ndPII := ndjsonCase("pii_ndjson", `{"external_id":"npii_1","braze[email]":"PLANTED-nd.jane@example","braze[n]":1}`+"\n"+
		`{"external_id":"npii_2","braze[email]":"ok@example.com","braze[n]":"PLANTED-not-a-number"}`+"\n"+
		`{"external_id":"npii_3","braze[email]":"ok3@example.com","braze[n]":3}`+"\n",
		map[int]string{0: "email"}, nil)
	ndPII.planted = []string{"PLANTED-nd", "PLANTED-not"}
	cases = append(cases, pii, ndPII)
	// NDJSON: a type that changes after line 1,000, a column that first appears there, invalid
	// UTF-8 and unpaired surrogates in keys, nested nulls, bad lines, a number no float holds.
	cases = append(cases,
		ndjsonCase("type_change_late", lines(`{"external_id":"tc_head","braze[v]":0}`, 1500, func(i int) string {
			switch i {
			case 1100:
				return fmt.Sprintf(`{"external_id":"tc_%d","braze[v]":"eleven hundred","braze[late]":true}`, i)
			case 1200:
				return fmt.Sprintf(`{"external_id":"tc_%d","braze[v]":{"a":1,"b":null},"braze[late]":false}`, i)
			}
			return fmt.Sprintf(`{"external_id":"tc_%d","braze[v]":%d}`, i, i)
		}), nil, nil),
		ndjsonCase("ndjson_keys_and_lines", "{\"external_id\":\"nk_1\",\"braze[n]\":1}\n"+
			"{\"external_id\":\"nk\xfe2\",\"braze[n]\":2}\n"+
			`{"external_id":"nk_\ud800x","braze[n]":3}`+"\n"+
			`{"external_id":"nk_4","braze[n]":1e400}`+"\n"+
			`[1,2]`+"\n"+
			`{"external_id":"nk_6","braze[n]":`+"\n"+
			`{"external_id":"nk_7","external_id":"nk_7b"}`+"\n"+
			`{"external_id":"caf\u00e9","braze[n]":8.5}`+"\n"+
			`{"external_id":null,"braze[n]":9}`+"\n",
			map[int]string{1: "UTF-8", 2: "UTF-8", 3: "64-bit float", 4: "JSON object", 5: "JSON", 6: "twice"}, map[int]string{8: "null_key"}),
		ndjsonCase("nested_nulls", `{"external_id":"nn_1","braze[prefs]":{"email":true,"push":null,"sms":null},"braze[tags]":["a",null,"b"]}`+"\n"+
			`{"external_id":"nn_2","braze[prefs]":{"deep":{"x":null,"y":1}},"braze[pets]":[{"name":"Rex","age":null},null]}`+"\n"+
			`{"external_id":"nn_3","braze[prefs]":{"a.b":null}}`+"\n",
			map[int]string{2: "nested key"}, nil),
	)
	return cases
}

// TestCorpusNothingWrongReachesBraze syncs every corpus file in one run and checks, row by row,
// that each row is delivered with exactly its own values, skipped for its key, or in the
// dead-letter file with a reason; that Braze holds no other key or value; that no plugin panicked;
// that the report balances; and that no planted value reached the log or the report.
func TestCorpusNothingWrongReachesBraze(t *testing.T) {
	dir := t.TempDir()
	cases := corpus()
	var files []string
	for _, c := range cases {
		path := filepath.Join(dir, c.file)
		if err := os.WriteFile(path, c.body, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	files = append(files, writeParquetKeys(t, dir))
	cases = append(cases, parquetKeysCase())
	const key = "inpute2e-corpus-key-5d1a"
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}, RateLimit: -1})
	res := testbin.Sync(t, testbin.Spec(filesSource(files), testbin.BrazeDestination("CORPUS", "rate_limit: -1")),
		testbin.SyncOptions{Env: map[string]string{"BRAZE_API_KEY": key, "BRAZE_ENDPOINT": emu.URL()}})
	if res.Code != 0 {
		t.Fatalf("exit %d\n%s", res.Code, testbin.Tail(res.Stderr, 4000))
	}
	if strings.Contains(res.Stderr, "panic") {
		t.Errorf("a plugin panicked:\n%s", testbin.Tail(res.Stderr, 4000))
	}
	dead := readDeadLetters(t, filepath.Join(res.Dir, "dead.jsonl"))
	profiles := map[string]brazeemu.Profile{}
	for _, p := range emu.Profiles() {
		profiles[p.ExternalID] = p
	}
	var want tally
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want.add(checkCase(t, c, dead[c.name], profiles))
		})
	}
	checkNoStrangers(t, cases, profiles)
	checkReport(t, res, want)
	t.Logf("corpus: %d files, %d rows: %d delivered, %d skipped, %d dead-lettered, %d nested nulls left out; Braze holds %d profiles",
		len(cases), want.rows, want.delivered, want.skipped, want.rejected, want.nulls, len(profiles))
	for _, c := range cases {
		for _, p := range c.planted {
			if strings.Contains(res.Stderr, p) || strings.Contains(res.Stdout, p) {
				t.Errorf("planted value %q is in the log", p)
			}
			if b, _ := os.ReadFile(filepath.Join(res.Dir, "report.json")); bytes.Contains(b, []byte(p)) {
				t.Errorf("planted value %q is in the report", p)
			}
		}
	}
}

// tally is what the corpus says the report must count.
type tally struct{ rows, delivered, skipped, rejected, nulls int64 }

func (t *tally) add(o tally) {
	t.rows += o.rows
	t.delivered += o.delivered
	t.skipped += o.skipped
	t.rejected += o.rejected
	t.nulls += o.nulls
}

// checkCase checks one file's rows and returns what they add to the report.
func checkCase(t *testing.T, c corpusCase, dead map[int]deadLetter, profiles map[string]brazeemu.Profile) tally {
	t.Helper()
	var got tally
	for i, row := range c.rows {
		got.rows++
		if want, ok := c.dead[i]; ok {
			got.rejected++
			d, found := dead[i]
			if !found || !strings.Contains(d.Reason+": "+d.Detail, want) {
				t.Errorf("row %d: dead letter %v, want one saying %q", i, d, want)
			}
			if row.key != nil && profiles[*row.key].ExternalID != "" && c.skipped[i] == "" {
				t.Errorf("row %d: dead-lettered, yet Braze holds its key", i)
			}
			continue
		}
		if _, ok := dead[i]; ok {
			t.Errorf("row %d: unexpected dead letter %v", i, dead[i])
			continue
		}
		if reason, ok := c.skipped[i]; ok {
			got.skipped++
			_ = reason
			continue
		}
		if row.unreadable || row.key == nil {
			t.Errorf("row %d: the oracle cannot read it, yet it is neither dead-lettered nor skipped", i)
			continue
		}
		got.delivered++
		got.nulls += checkDelivered(t, i, row, profiles)
	}
	if len(dead) != len(c.dead) {
		t.Errorf("%d dead letters, want %d", len(dead), len(c.dead))
	}
	return got
}

// checkDelivered compares a delivered row's attributes with what Braze holds; it returns the
// nulls its values held inside.
func checkDelivered(t *testing.T, i int, row srcRow, profiles map[string]brazeemu.Profile) int64 {
	t.Helper()
	p, ok := profiles[*row.key]
	if !ok {
		t.Errorf("row %d: key %.40q is not in Braze", i, *row.key)
		return 0
	}
	var nulls int64
	for attr, v := range row.attrs {
		stored, has := p.Custom[attr]
		if attr == "email" {
			stored, has = p.Email, p.Email != ""
		}
		switch {
		case v == nil && has:
			t.Errorf("row %d: %s is null in the source, Braze holds %v", i, attr, stored)
		case v != nil && !has:
			t.Errorf("row %d: %s is missing in Braze", i, attr)
		case v != nil && !same(v, stored):
			t.Errorf("row %d: %s is %#v in Braze, the source holds %#v", i, attr, stored, v)
		}
		if v != nil && v.isJSON {
			nulls += nestedNulls(v.json)
		}
	}
	for attr := range p.Custom {
		if _, ok := row.attrs[attr]; !ok && attr != "looker_export" {
			t.Errorf("row %d: Braze holds %s, which the source does not have", i, attr)
		}
	}
	return nulls
}

// checkNoStrangers: every profile in Braze has a key that a delivered row holds, byte for byte.
func checkNoStrangers(t *testing.T, cases []corpusCase, profiles map[string]brazeemu.Profile) {
	t.Helper()
	keys := map[string]bool{}
	for _, c := range cases {
		for i, r := range c.rows {
			if _, d := c.dead[i]; r.key != nil && !d {
				keys[*r.key] = true
			}
		}
	}
	var strangers []string
	for k := range profiles {
		if !keys[k] {
			strangers = append(strangers, fmt.Sprintf("%.40q", k))
		}
	}
	sort.Strings(strangers)
	if len(strangers) > 0 {
		t.Errorf("Braze holds keys no delivered row has: %v", strangers)
	}
}

func checkReport(t *testing.T, res testbin.Result, want tally) {
	t.Helper()
	rep := res.Report
	if rep == nil {
		t.Fatal("no report")
	}
	if !rep.Balanced() || rep.RowsRead != want.rows || rep.UsersSent != want.delivered ||
		rep.Skipped() != want.skipped || rep.Rejected() != want.rejected {
		t.Errorf("report read %d sent %d skipped %d rejected %d (balanced %v), the corpus says read %d sent %d skipped %d rejected %d",
			rep.RowsRead, rep.UsersSent, rep.Skipped(), rep.Rejected(), rep.Balanced(), want.rows, want.delivered, want.skipped, want.rejected)
	}
	if rep.NestedNullsDropped != want.nulls {
		t.Errorf("report says %d nested nulls dropped, the delivered rows held %d", rep.NestedNullsDropped, want.nulls)
	}
	if rep.Sources["files"] != rep.RowsRead || rep.RowsNotRead != 0 {
		t.Errorf("source rows %d, rows read %d, not read %d", rep.Sources["files"], rep.RowsRead, rep.RowsNotRead)
	}
}

// filesSource is a file source reading every path, one table each.
func filesSource(paths []string) string {
	var b strings.Builder
	b.WriteString("kind: source\nspec:\n  name: files\n  path: {{BIN}}/file-source\n  registry: local\n  tables: [\"*\"]\n  destinations: [braze]\n  spec:\n    batch_rows: 333\n    files:\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "      - path: %s\n", p)
	}
	return b.String()
}

// readDeadLetters reads the dead-letter file by table and row.
func readDeadLetters(t *testing.T, path string) map[string]map[int]deadLetter {
	t.Helper()
	out := map[string]map[int]deadLetter{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var d deadLetter
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("dead-letter line is not JSON: %v", err)
		}
		if out[d.Table] == nil {
			out[d.Table] = map[int]deadLetter{}
		}
		if _, dup := out[d.Table][d.Row]; dup {
			t.Errorf("row %d of %s is dead-lettered twice", d.Row, d.Table)
		}
		out[d.Table][d.Row] = d
	}
	return out
}

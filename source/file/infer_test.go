package file

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/types"

	"github.com/brazesync/brazesync/schema"
)

// table is a synced file flattened: its schema and, per row, each column's value as text
// ("<null>" for nulls), plus the rejection reason of rows the destination will dead-letter.
type table struct {
	sc       *arrow.Schema
	rows     []map[string]string
	rejected map[int]string
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readTable(t *testing.T, file map[string]any) table {
	t.Helper()
	recs := syncAll(t, map[string]any{"files": []any{file}, "batch_rows": 7})
	var tb table
	tb.rejected = map[int]string{}
	for _, rec := range recs {
		if tb.sc == nil {
			tb.sc = rec.Schema()
		} else if !tb.sc.Equal(rec.Schema()) {
			t.Fatalf("records disagree on the schema:\n%v\n%v", tb.sc, rec.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := map[string]string{}
			for c, f := range rec.Schema().Fields() {
				col := rec.Column(c)
				switch {
				case f.Name == schema.ColumnRejected:
					if col.IsValid(i) {
						s := col.(*array.Struct)
						tb.rejected[len(tb.rows)] = s.Field(0).ValueStr(i) + ": " + s.Field(1).ValueStr(i)
					}
				case col.IsNull(i):
					row[f.Name] = "<null>"
				case f.Type.ID() == arrow.EXTENSION:
					row[f.Name] = string(col.(array.ExtensionArray).Storage().(*array.Binary).Value(i))
				default:
					row[f.Name] = col.ValueStr(i)
				}
			}
			tb.rows = append(tb.rows, row)
		}
	}
	return tb
}

func (tb table) typeOf(t *testing.T, col string) arrow.DataType {
	t.Helper()
	idx := tb.sc.FieldIndices(col)
	if len(idx) != 1 {
		t.Fatalf("no column %q in %v", col, tb.sc)
	}
	return tb.sc.Field(idx[0]).Type
}

func (tb table) column(col string) []string {
	out := make([]string, len(tb.rows))
	for i, r := range tb.rows {
		out[i] = r[col]
	}
	return out
}

func (tb table) note(t *testing.T, col string) string {
	t.Helper()
	idx := tb.sc.FieldIndices(col)
	v, _ := tb.sc.Field(idx[0]).Metadata.GetValue(schema.MetadataInferenceNote)
	return v
}

// TestCSVTypesComeFromTheWholeFile: the cases of issue 19. A column's type is the narrowest one
// holding every value in the file, so a value past the first rows never falls back to a default:
// 100 then 1.01, 2.02, … is float64 with every value exact; an integer column holding 3.7 later is
// float64; a date column holding 0000-00-00 later is text, every value as written. The columns
// whose start disagreed with the rest say so for `check`.
func TestCSVTypesComeFromTheWholeFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,braze[ltv],braze[visits],braze[since]\n")
	const rows = 2500
	for i := 0; i < rows; i++ {
		ltv, visits, since := fmt.Sprintf("%d.%02d", i, i%100), fmt.Sprint(i), fmt.Sprintf("2024-01-%02d", i%28+1)
		switch i {
		case 0:
			ltv = "100"
		case 1500:
			visits = "3.7"
		case 2400:
			since = "0000-00-00"
		}
		fmt.Fprintf(&b, "u%d,%s,%s,%s\n", i, ltv, visits, since)
	}
	tb := readTable(t, map[string]any{"path": writeFile(t, "users.csv", b.String())})
	if len(tb.rows) != rows || len(tb.rejected) != 0 {
		t.Fatalf("%d rows, %d rejected", len(tb.rows), len(tb.rejected))
	}
	for col, want := range map[string]arrow.Type{"id": arrow.STRING, "braze[ltv]": arrow.FLOAT64,
		"braze[visits]": arrow.FLOAT64, "braze[since]": arrow.STRING} {
		if got := tb.typeOf(t, col).ID(); got != want {
			t.Errorf("column %s is %v, want %v", col, got, want)
		}
	}
	src := strings.Split(strings.TrimSpace(b.String()), "\n")[1:]
	for i, line := range src {
		cells := strings.Split(line, ",")
		got := tb.rows[i]
		if !sameNumber(got["braze[ltv]"], cells[1]) || !sameNumber(got["braze[visits]"], cells[2]) || got["braze[since]"] != cells[3] {
			t.Fatalf("row %d: %v, source %v", i, got, cells)
		}
	}
	if n := tb.note(t, "braze[visits]"); !strings.Contains(n, "row 1500") || !strings.Contains(n, "integer") {
		t.Errorf("visits note %q, want one naming row 1500 and the integers of the sample", n)
	}
	if n := tb.note(t, "braze[ltv]"); n != "" {
		t.Errorf("ltv was float from its second row: note %q", n)
	}
}

// sameNumber compares a float64 written back by Arrow with the source's text, as numbers.
func sameNumber(got, src string) bool {
	var a, b float64
	_, err1 := fmt.Sscan(got, &a)
	_, err2 := fmt.Sscan(src, &b)
	return err1 == nil && err2 == nil && a == b
}

// TestCSVValuesAreExact: numbers keep their value or stay text. Leading zeros, '+', '.5' are text;
// numbers a float64 cannot hold exactly (too many digits, 1e400) make the column a JSON number
// column holding the digits as written, which the destination sends verbatim or refuses by row.
func TestCSVValuesAreExact(t *testing.T) {
	tb := readTable(t, map[string]any{"path": writeFile(t, "v.csv",
		"id,zip,big,huge,flag,when\n"+
			"a,00123,1,1,true,2024-01-02T03:04:05Z\n"+
			"b,+5,12345678901234567890123,1e400,FALSE,2024-01-02 03:04:05.123456\n"+
			"c,.5,0.1,2,,2024-01-02\n")})
	want := map[string]struct {
		typ  arrow.Type
		vals []string
	}{
		"zip":  {arrow.STRING, []string{"00123", "+5", ".5"}},
		"big":  {arrow.EXTENSION, []string{"1", "12345678901234567890123", "0.1"}},
		"huge": {arrow.EXTENSION, []string{"1", "1e400", "2"}},
		"flag": {arrow.BOOL, []string{"true", "false", "<null>"}},
		"when": {arrow.TIMESTAMP, []string{"2024-01-02 03:04:05Z", "2024-01-02 03:04:05.123456Z", "2024-01-02 00:00:00Z"}},
	}
	for col, w := range want {
		if got := tb.typeOf(t, col); got.ID() != w.typ {
			t.Errorf("%s: %v, want %v", col, got, w.typ)
		}
		if got := tb.column(col); strings.Join(got, "|") != strings.Join(w.vals, "|") {
			t.Errorf("%s: %q, want %q", col, got, w.vals)
		}
	}
	if dt := tb.typeOf(t, "big"); dt.(arrow.ExtensionType).ExtensionName() != types.NewJSONType().ExtensionName() {
		t.Errorf("big is %v, want CloudQuery JSON", dt)
	}
}

// TestCSVLateSurprises: a header-only file has a table and no rows; a trailing blank line is
// nothing; a byte-order mark is not part of the first column's name; rows with the wrong number
// of fields or a stray quote are handed on as rejected (never guessed at), naming the reason; an
// unterminated quote fails the file naming the line.
func TestCSVLateSurprises(t *testing.T) {
	t.Run("header only", func(t *testing.T) {
		recs := syncAll(t, map[string]any{"files": []any{map[string]any{"path": writeFile(t, "h.csv", "external_id,braze[a]\n")}}})
		if len(recs) != 0 {
			t.Errorf("%d records from a header-only file", len(recs))
		}
	})
	t.Run("blank lines, BOM, bad rows", func(t *testing.T) {
		tb := readTable(t, map[string]any{"path": writeFile(t, "b.csv",
			"\ufeffexternal_id,braze[a]\nu1,1\nu2\nu3,3,4\nu4,x\"y\nu5,5\n\n\n")})
		if got := tb.column("external_id"); strings.Join(got, ",") != "u1,<null>,<null>,<null>,u5" {
			t.Errorf("keys %v", got)
		}
		if len(tb.rejected) != 3 || !strings.Contains(tb.rejected[1], "1 fields, the header 2") ||
			!strings.Contains(tb.rejected[2], "3 fields") || !strings.Contains(tb.rejected[3], "quote") {
			t.Errorf("rejected %v", tb.rejected)
		}
		if tb.typeOf(t, "braze[a]").ID() != arrow.INT64 {
			t.Errorf("braze[a] is %v: the rejected rows' cells must not type the column", tb.typeOf(t, "braze[a]"))
		}
	})
	t.Run("unterminated quote", func(t *testing.T) {
		path := writeFile(t, "q.csv", "external_id,braze[a]\nu1,1\nu2,\"open\nu3,3\n")
		_, err := syncErr(map[string]any{"files": []any{map[string]any{"path": path}}})
		if err == nil || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("error %v, want one naming line 3", err)
		}
	})
}

// syncErr runs a sync and returns its error.
func syncErr(spec map[string]any) (int, error) {
	p := NewPlugin()
	b, _ := json.Marshal(spec)
	if err := p.Init(context.Background(), b, plugin.NewClientOptions{}); err != nil {
		return 0, err
	}
	msgs, err := p.SyncAll(context.Background(), plugin.SyncOptions{Tables: []string{"*"}})
	return len(msgs), err
}

// TestNDJSONTypesComeFromTheWholeFile: a column whose type changes after line 1,000 is JSON (each
// value as written), not a panic; a column that first appears after line 1,000 is kept; integers
// and floats make float64; blank lines are not rows.
func TestNDJSONTypesComeFromTheWholeFile(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 1500; i++ {
		switch {
		case i == 1200:
			fmt.Fprintf(&b, `{"external_id":"u%d","v":"twelve hundred","late":true,"x":2.5}`+"\n\n", i)
		default:
			fmt.Fprintf(&b, `{"external_id":"u%d","v":%d,"x":%d}`+"\n", i, i, i)
		}
	}
	tb := readTable(t, map[string]any{"path": writeFile(t, "e.ndjson", b.String())})
	if len(tb.rows) != 1500 {
		t.Fatalf("%d rows", len(tb.rows))
	}
	if dt := tb.typeOf(t, "v"); dt.ID() != arrow.EXTENSION {
		t.Errorf("v is %v, want JSON", dt)
	}
	if tb.rows[5]["v"] != "5" || tb.rows[1200]["v"] != `"twelve hundred"` {
		t.Errorf("v values %q %q", tb.rows[5]["v"], tb.rows[1200]["v"])
	}
	if tb.typeOf(t, "late").ID() != arrow.BOOL || tb.rows[1200]["late"] != "true" || tb.rows[0]["late"] != "<null>" {
		t.Errorf("late column: %v %q", tb.typeOf(t, "late"), tb.rows[1200]["late"])
	}
	if tb.typeOf(t, "x").ID() != arrow.FLOAT64 {
		t.Errorf("x is %v", tb.typeOf(t, "x"))
	}
	if n := tb.note(t, "v"); !strings.Contains(n, "row 1200") {
		t.Errorf("v note %q", n)
	}
}

// TestNDJSONKeepsBytesAndRejectsBadLines: invalid UTF-8 and unpaired surrogates stay invalid (the
// destination refuses them rather than sending U+FFFD); 1e400 is a JSON number as written; a line
// that is not an object, not JSON, or holds a key twice is handed on as rejected.
func TestNDJSONKeepsBytesAndRejectsBadLines(t *testing.T) {
	body := "{\"external_id\":\"u\xfe2\",\"n\":1}\n" +
		`{"external_id":"u\ud800x","n":1e400}` + "\n" +
		`{"external_id":"caf\u00e9","n":2,"tags":["a",null]}` + "\n" +
		`[1,2]` + "\n" +
		`{"external_id":` + "\n" +
		`{"external_id":"d","external_id":"e"}` + "\n"
	tb := readTable(t, map[string]any{"path": writeFile(t, "k.ndjson", body)})
	keys := tb.column("external_id")
	if keys[0] != "u\xfe2" || keys[1] != "u\xed\xa0\x80x" || keys[2] != "café" {
		t.Errorf("keys %q", keys)
	}
	if got := tb.column("n"); got[1] != "1e400" || tb.typeOf(t, "n").ID() != arrow.EXTENSION {
		t.Errorf("n %q (%v)", got, tb.typeOf(t, "n"))
	}
	if got := tb.rows[2]["tags"]; got != `["a",null]` {
		t.Errorf("tags %q", got)
	}
	if len(tb.rejected) != 3 || !strings.Contains(tb.rejected[3], "not a JSON object") ||
		!strings.Contains(tb.rejected[4], "not valid JSON") || tb.rejected[5] != "external_id: the line holds this key twice" {
		t.Errorf("rejected %v", tb.rejected)
	}
}

// TestPinnedTypes: types: pins a column, and a value that does not fit is a dead letter naming the
// column; a column tagged braze_id is text whatever it looks like.
func TestPinnedTypes(t *testing.T) {
	tb := readTable(t, map[string]any{
		"path":  writeFile(t, "p.csv", "id,zip,n\n1e5,01234,1\n0012,99999,two\n"),
		"tags":  map[string]any{"id": []any{"braze_id"}},
		"types": map[string]any{"zip": "string", "n": "integer"},
	})
	if tb.typeOf(t, "id").ID() != arrow.STRING || tb.typeOf(t, "zip").ID() != arrow.STRING || tb.typeOf(t, "n").ID() != arrow.INT64 {
		t.Fatalf("types %v", tb.sc)
	}
	if got := tb.column("id"); got[0] != "1e5" || tb.rows[0]["zip"] != "01234" {
		t.Errorf("values %v", tb.rows)
	}
	if r := tb.rejected[1]; !strings.HasPrefix(r, "n: value is not integer") {
		t.Errorf("rejected %v", tb.rejected)
	}
	for _, bad := range []map[string]any{
		{"path": "x.csv", "types": map[string]any{"a": "decimal"}},
		{"path": "x.csv", "types": map[string]any{"a": "json"}},
		{"path": "x.parquet", "types": map[string]any{"a": "string"}},
	} {
		b, _ := json.Marshal(map[string]any{"files": []any{bad}})
		if _, err := ParseSpec(b); err == nil || !strings.Contains(err.Error(), "types:") {
			t.Errorf("%v: %v, want a types: error", bad, err)
		}
	}
	_, err := syncErr(map[string]any{"files": []any{map[string]any{"path": writeFile(t, "m.csv", "a\n1\n"), "types": map[string]any{"b": "string"}}}})
	if err == nil || !strings.Contains(err.Error(), `column "b" is not in the file`) {
		t.Errorf("types: on a missing column: %v", err)
	}
}

func TestNumberKinds(t *testing.T) {
	for s, want := range map[string]kind{
		"0": kindInt, "-0": kindInt, "9223372036854775807": kindInt, "9223372036854775808": kindNumber, "1e19": kindFloat,
		"1.5": kindFloat, "1e5": kindFloat, "0.1": kindFloat, "123456789012345.6": kindFloat,
		"1234567890123456789": kindInt, "12345678901234567890": kindNumber, "0.12345678901234567890": kindNumber, "1e400": kindNumber,
		"1e-400": kindNumber, "9007199254740993.0": kindNumber, "9007199254740992.0": kindFloat,
		"4.9e-324": kindNumber, "5e-324": kindFloat, "1.7976931348623157e308": kindFloat,
	} {
		if got, ok := numberKind(s); !ok || got != want {
			t.Errorf("numberKind(%s) = %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{"007", "+5", ".5", "5.", "1e", "--1", "0x10", "1,5", " 1"} {
		if _, ok := numberKind(s); ok {
			t.Errorf("%q is a number", s)
		}
	}
}

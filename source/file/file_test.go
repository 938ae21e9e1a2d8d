package file

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"

	"github.com/brazesync/brazesync/schema"
	"github.com/brazesync/brazesync/test/sampledata"
	"github.com/brazesync/brazesync/test/testbin"
)

// syncAll runs the plugin in-process through plugin-sdk, as the serve command would.
func syncAll(t *testing.T, spec map[string]any) []arrow.Record {
	t.Helper()
	p := NewPlugin()
	b, _ := json.Marshal(spec)
	if err := p.Init(context.Background(), b, plugin.NewClientOptions{}); err != nil {
		t.Fatal(err)
	}
	msgs, err := p.SyncAll(context.Background(), plugin.SyncOptions{Tables: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	var recs []arrow.Record
	for _, m := range msgs {
		if ins, ok := m.(*message.SyncInsert); ok {
			recs = append(recs, ins.Record)
		}
	}
	return recs
}

func rows(recs []arrow.Record) (n int64) {
	for _, r := range recs {
		n += r.NumRows()
	}
	return n
}

// TestParquetKeepsTagsAndAnnouncesRows: the sample Parquet file streams in batch_rows records that
// carry the table name, the Looker-style tags stored in the file and the row count from the footer.
func TestParquetKeepsTagsAndAnnouncesRows(t *testing.T) {
	path := filepath.Join(testbin.Root(), "docs/examples/data/users.parquet")
	recs := syncAll(t, map[string]any{"files": []any{map[string]any{"path": path}}, "batch_rows": 1000})
	if got := rows(recs); got != sampledata.DefaultUsers {
		t.Fatalf("%d rows, want %d", got, sampledata.DefaultUsers)
	}
	for _, r := range recs {
		if r.NumRows() > 1000 {
			t.Fatalf("record of %d rows exceeds batch_rows", r.NumRows())
		}
	}
	sc := recs[0].Schema()
	if name, _ := sc.Metadata().GetValue(cqschema.MetadataTableName); name != "users" {
		t.Errorf("table name %q", name)
	}
	if n, ok := schema.RowsTotal(sc); !ok || n != sampledata.DefaultUsers {
		t.Errorf("rows total %d, %v", n, ok)
	}
	idx := sc.FieldIndices("user_id")
	if len(idx) != 1 || strings.Join(schema.FieldTags(sc.Field(idx[0])), ",") != "braze_id" {
		t.Errorf("user_id tags lost: %v", sc.Field(idx[0]).Metadata)
	}
}

// TestCSVInfersTypesAndKeepsHeaders: a CSV header braze[attr] is kept verbatim, types are inferred,
// and tags from the spec are attached.
func TestCSVInfersTypesAndKeepsHeaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "people.csv")
	body := "id,braze[score],braze[vip],braze[seen]\n" +
		"a,1,true,2024-01-02T03:04:05Z\n" +
		"b,2,false,2024-02-03T04:05:06Z\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	recs := syncAll(t, map[string]any{"files": []any{map[string]any{"path": path, "tags": map[string]any{"id": []any{"braze_id"}}}}})
	if rows(recs) != 2 {
		t.Fatalf("%d rows", rows(recs))
	}
	sc := recs[0].Schema()
	want := map[string]arrow.Type{"id": arrow.STRING, "braze[score]": arrow.INT64, "braze[vip]": arrow.BOOL, "braze[seen]": arrow.TIMESTAMP}
	for name, typ := range want {
		idx := sc.FieldIndices(name)
		if len(idx) != 1 || sc.Field(idx[0]).Type.ID() != typ {
			t.Errorf("column %s: %v, want %v", name, sc.Fields(), typ)
		}
	}
	if tags := schema.FieldTags(sc.Field(0)); len(tags) != 1 || tags[0] != "braze_id" {
		t.Errorf("id tags %v", tags)
	}
	if name, _ := sc.Metadata().GetValue(cqschema.MetadataTableName); name != "people" {
		t.Errorf("table name %q", name)
	}
}

// TestNDJSONInference: types come from the first lines; integers and floats mix into float64.
func TestNDJSONInference(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.ndjson")
	body := `{"external_id":"u1","n":1,"x":1.5,"ok":true,"at":"2024-01-02T03:04:05Z","tags":["a"]}
{"external_id":"u2","n":2,"x":2,"ok":false,"at":"2024-01-03T03:04:05Z","tags":["b","c"]}
`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	recs := syncAll(t, map[string]any{"files": []any{map[string]any{"path": path}}})
	if rows(recs) != 2 {
		t.Fatalf("%d rows", rows(recs))
	}
	sc := recs[0].Schema()
	want := map[string]arrow.Type{"external_id": arrow.STRING, "n": arrow.INT64, "x": arrow.FLOAT64, "ok": arrow.BOOL,
		"at": arrow.TIMESTAMP, "tags": arrow.LIST}
	for name, typ := range want {
		idx := sc.FieldIndices(name)
		if len(idx) != 1 || sc.Field(idx[0]).Type.ID() != typ {
			t.Errorf("column %s has type %v, want %v", name, sc.Field(idx[0]).Type, typ)
		}
	}
}

// TestSpecErrorsNameTheField: bad specs fail in Init with the field named.
func TestSpecErrorsNameTheField(t *testing.T) {
	csv := filepath.Join(t.TempDir(), "a.csv")
	os.WriteFile(csv, []byte("id\n1\n"), 0o600)
	tests := []struct{ spec, want string }{
		{`{}`, "files:"},
		{`{"files":[{"path":"x.txt"}]}`, "format:"},
		{`{"files":[{"path":"x.csv","format":"xml"}]}`, `"xml"`},
		{`{"files":[{"path":"a.csv"},{"path":"b/a.csv"}]}`, "used twice"},
		{`{"files":[{"path":"a.csv"}],"batch_rows":0.5}`, "batch_rows"},
		{`{"files":[{"path":"a.csv"}],"colums":1}`, "colums"},
	}
	for _, tc := range tests {
		_, err := ParseSpec([]byte(tc.spec))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSpec(%s) = %v, want an error naming %q", tc.spec, err, tc.want)
		}
	}
	p := NewPlugin()
	b, _ := json.Marshal(map[string]any{"files": []any{map[string]any{"path": csv, "tags": map[string]any{"nope": []any{"braze_id"}}}}})
	if err := p.Init(context.Background(), b, plugin.NewClientOptions{}); err == nil {
		if _, err := p.SyncAll(context.Background(), plugin.SyncOptions{Tables: []string{"*"}}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("tags on a missing column: %v", err)
		}
	}
}

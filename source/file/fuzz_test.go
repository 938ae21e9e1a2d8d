package file

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
)

// fuzzFile syncs body as a file of the given extension: whatever the bytes, the plugin must not
// panic, and when it succeeds it sends every row the first pass counted.
func fuzzFile(t *testing.T, ext string, body []byte) {
	path := filepath.Join(t.TempDir(), "f"+ext)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(map[string]any{"files": []any{map[string]any{"path": path}}, "batch_rows": 3})
	p := NewPlugin()
	if err := p.Init(context.Background(), spec, plugin.NewClientOptions{}); err != nil {
		t.Fatal(err)
	}
	msgs, err := p.SyncAll(context.Background(), plugin.SyncOptions{Tables: []string{"*"}})
	if err != nil {
		return // a file can be refused (no header, unterminated quote), never panic
	}
	var rows int64
	for _, m := range msgs {
		if ins, ok := m.(*message.SyncInsert); ok {
			rows += ins.Record.NumRows()
		}
	}
	fp := planOfFile(t, path)
	if fp != nil && rows != fp.rows {
		t.Fatalf("sent %d rows, the first pass counted %d", rows, fp.rows)
	}
}

func planOfFile(t *testing.T, path string) *plan {
	f := FileSpec{Path: path}
	if err := f.normalise(); err != nil {
		t.Fatal(err)
	}
	var p *plan
	var err error
	if f.Format == FormatCSV {
		p, err = inferCSV(f)
	} else {
		p, err = inferNDJSON(f)
	}
	if err != nil {
		return nil
	}
	return p
}

func FuzzCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "external_id,braze[x]\nu1,1.5\nu2,\"q\"\"x\"\n", "h\n\"open\n", "\ufeffa\n1e400\n0000-00-00\n", "a,b\n1\n1,2,3\nx\"y,2\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { fuzzFile(t, ".csv", body) })
}

func FuzzNDJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}` + "\n" + `{"a":"x","b":[null,"y"]}`, "{\"k\":\"\xfe\"}\n[1]\n{", `{"a":{"b":null},"a":2}`, `{"n":1e400,"s":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { fuzzFile(t, ".ndjson", body) })
}

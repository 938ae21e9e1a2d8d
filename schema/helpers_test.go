package schema

import (
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// recordFromJSON builds a record from JSON rows, using Arrow's own JSON
// reader so test data reads naturally.
func recordFromJSON(t testing.TB, sc *arrow.Schema, rows string) arrow.Record {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, sc, strings.NewReader(rows))
	if err != nil {
		t.Fatalf("building record: %v", err)
	}
	t.Cleanup(rec.Release)
	return rec
}

// rowOut is the outcome of one row, flattened for comparisons.
type rowOut struct {
	JSON   string // members, no braces
	Skip   string
	Reject string // "column/attribute: reason"
	Key    string
}

func encodeAll(t testing.TB, m *Mapping, rec arrow.Record) []rowOut {
	t.Helper()
	enc := m.NewEncoder()
	if err := enc.Reset(rec); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	var out []rowOut
	for i := 0; i < int(rec.NumRows()); i++ {
		dst := []byte("PREFIX")
		got, res := enc.AppendRow(dst, i)
		o := rowOut{Key: string(res.Key)}
		switch {
		case res.Skip != SkipNone:
			o.Skip = res.Skip.String()
		case res.Reject != nil:
			o.Reject = res.Reject.Column + "/" + res.Reject.Attribute + ": " + res.Reject.Reason
		default:
			o.JSON = string(got[len("PREFIX"):])
		}
		if (res.Skip != SkipNone || res.Reject != nil) && string(got) != "PREFIX" {
			t.Fatalf("row %d: dst changed on skip/reject: %q", i, got)
		}
		if !strings.HasPrefix(string(got), "PREFIX") {
			t.Fatalf("row %d: prefix clobbered: %q", i, got)
		}
		out = append(out, o)
	}
	return out
}

func mustMapping(t testing.TB, sc *arrow.Schema, cfg Config) *Mapping {
	t.Helper()
	m, err := NewMapping(sc, cfg)
	if err != nil {
		t.Fatalf("NewMapping: %v", err)
	}
	return m
}

func field(name string, dt arrow.DataType, tags ...string) arrow.Field {
	f := arrow.Field{Name: name, Type: dt, Nullable: true}
	if len(tags) > 0 {
		f = FieldWithTags(f, tags...)
	}
	return f
}

package schema

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
)

func TestRowsTotalRoundTrip(t *testing.T) {
	md := arrow.NewMetadata([]string{"cq:table_name"}, []string{"users"})
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}}, &md)
	if _, ok := RowsTotal(sc); ok {
		t.Fatal("a schema without the key has no total")
	}
	sc = WithRowsTotal(WithRowsTotal(sc, 7), 1234)
	if n, ok := RowsTotal(sc); !ok || n != 1234 {
		t.Fatalf("RowsTotal = %d, %v", n, ok)
	}
	if v, _ := sc.Metadata().GetValue("cq:table_name"); v != "users" {
		t.Errorf("other metadata lost: %v", sc.Metadata())
	}
	if sc.Metadata().Len() != 2 {
		t.Errorf("metadata has %d keys, want 2", sc.Metadata().Len())
	}
}

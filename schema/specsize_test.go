package schema

import (
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
)

// wideSpec is a table of n attribute columns mapped by a spec's attributes map.
func wideSpec(n int) (*arrow.Schema, Config) {
	fields := []arrow.Field{{Name: "external_id", Type: arrow.BinaryTypes.String}}
	cfg := Config{Attributes: map[string]string{}}
	for i := 0; i < n; i++ {
		col := fmt.Sprintf("COL_%d", i)
		fields = append(fields, arrow.Field{Name: col, Type: arrow.BinaryTypes.String})
		cfg.Attributes[col] = fmt.Sprintf("attr_%d", i)
	}
	return arrow.NewSchema(fields, nil), cfg
}

// BenchmarkNewMappingWideSpec resolves a table of 50,000 columns mapped by the spec's attributes
// map: linear in the number of attributes (b.N × 50,000 lookups, one sort).
func BenchmarkNewMappingWideSpec(b *testing.B) {
	sc, cfg := wideSpec(50_000)
	for b.Loop() {
		if _, err := NewMapping(sc, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

package shared

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/arrow/util"
	pbcq "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
)

// TestSlicesBoundMessages: a record several times MaxRecordBytes is cut into parts that each fit,
// and no row is lost or repeated.
func TestSlicesBoundMessages(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "external_id", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	pad := make([]byte, 200)
	for i := range pad {
		pad[i] = 'x'
	}
	for range 40_000 {
		b.Field(0).(*array.StringBuilder).Append(string(pad))
	}
	rec := b.NewRecord()
	defer rec.Release()
	if util.TotalRecordSize(rec) < 3*MaxRecordBytes {
		t.Fatalf("record of %d bytes is too small to need slicing", util.TotalRecordSize(rec))
	}
	parts := slices(rec)
	if len(parts) < 3 {
		t.Fatalf("record cut into %d parts", len(parts))
	}
	var rows int64
	for _, p := range parts {
		// A slice shares its parent's buffers, so measure what crosses the wire: the IPC bytes.
		b, err := pbcq.RecordToBytes(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > MaxRecordBytes+64<<10 {
			t.Errorf("part of %d IPC bytes exceeds %d", len(b), MaxRecordBytes)
		}
		rows += p.NumRows()
	}
	if rows != rec.NumRows() {
		t.Errorf("parts hold %d rows, record %d", rows, rec.NumRows())
	}
}

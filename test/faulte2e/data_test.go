package faulte2e

import (
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
)

// row is one generated source row; nil fields are SQL NULLs.
type row struct {
	id    *string
	name  *string
	score *int64
}

// genRows builds n deterministic rows with every case the destination must handle: users repeated
// far apart (separate requests) and back to back (merged), null keys (skipped), the blocked
// external_id "null" (Braze's own minor error), strings over 255 characters (refused by the encoder)
// and null attributes (kept from an earlier row).
func genRows(n int) []row {
	rows := make([]row, n)
	prev := ""
	for i := range rows {
		id := fmt.Sprintf("u%05d", (i*7919)%(n*9/10))
		switch {
		case i%50 == 49:
			id = prev // back to back: merged into the previous row's object
		case i%1499 == 7:
			id = "null"
		}
		prev = id
		r := row{id: &id}
		name := fmt.Sprintf("n%d", i)
		if i%1201 == 11 {
			name = strings.Repeat("z", 300)
		}
		r.name = &name
		if i%13 != 0 {
			s := int64(i)
			r.score = &s
		}
		if i%997 == 3 {
			r.id = nil
		}
		rows[i] = r
	}
	return rows
}

// record builds a users record from rows.
func record(rows []row) arrow.Record {
	md := arrow.NewMetadata([]string{cqschema.MetadataTableName}, []string{"users"})
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "external_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "braze[name]", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "braze[score]", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, r := range rows {
		appendStr(b.Field(0).(*array.StringBuilder), r.id)
		appendStr(b.Field(1).(*array.StringBuilder), r.name)
		if r.score == nil {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Int64Builder).Append(*r.score)
		}
	}
	return b.NewRecord()
}

func appendStr(b *array.StringBuilder, s *string) {
	if s == nil {
		b.AppendNull()
		return
	}
	b.Append(*s)
}

package sampledata

import (
	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
)

// UserRow is one row of UsersRecord; nil fields are nulls.
type UserRow struct {
	ID    *string
	Name  *string
	Score *int64
}

// UsersRecord builds a record of the narrow users table the destination tests write: external_id,
// braze[name], braze[score], with the table name in the schema metadata as CloudQuery sets it.
func UsersRecord(table string, rows []UserRow) arrow.Record {
	md := arrow.NewMetadata([]string{cqschema.MetadataTableName}, []string{table})
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "external_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "braze[name]", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "braze[score]", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, r := range rows {
		appendStr(b.Field(0).(*array.StringBuilder), r.ID)
		appendStr(b.Field(1).(*array.StringBuilder), r.Name)
		if r.Score == nil {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Int64Builder).Append(*r.Score)
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

package testbin

import (
	"os"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// parquetChunk is the rows of one record and one row group: large files stay flat in memory.
const parquetChunk = 16384

// WriteParquet writes a Parquet file of rows rows with schema sc; fill appends row i to b, one
// value per field.
func WriteParquet(tb testing.TB, path string, sc *arrow.Schema, rows int, fill func(b *array.RecordBuilder, i int)) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(sc, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(parquetChunk)), pqarrow.DefaultWriterProps())
	if err != nil {
		tb.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for start := 0; start < rows; start += parquetChunk {
		for i := start; i < min(rows, start+parquetChunk); i++ {
			fill(b, i)
		}
		rec := b.NewRecord()
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
}

// UsersSchema is the narrow user file the end-to-end tests share: a key and two attributes.
var UsersSchema = arrow.NewSchema([]arrow.Field{
	{Name: "external_id", Type: arrow.BinaryTypes.String},
	{Name: "braze[score]", Type: arrow.PrimitiveTypes.Int64},
	{Name: "braze[segment]", Type: arrow.BinaryTypes.String},
}, nil)

// WriteUsers writes rows users of UsersSchema to path; user(i) is row i's key, score and segment.
func WriteUsers(tb testing.TB, path string, rows int, user func(i int) (id string, score int64, segment string)) {
	tb.Helper()
	WriteParquet(tb, path, UsersSchema, rows, func(b *array.RecordBuilder, i int) {
		id, score, segment := user(i)
		b.Field(0).(*array.StringBuilder).Append(id)
		b.Field(1).(*array.Int64Builder).Append(score)
		b.Field(2).(*array.StringBuilder).Append(segment)
	})
}

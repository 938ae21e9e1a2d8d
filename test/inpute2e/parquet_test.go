package inpute2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// parquetKeys are the keys of the Parquet corpus file: Parquet strings are bytes, so invalid UTF-8
// and NUL reach the destination as they are, and must be refused there, not repaired.
var parquetKeys = []string{"pq_ok", "pq\xfe2", "pq\x00nul", "pq_last"}

func writeParquetKeys(t *testing.T, dir string) string {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: keyCol, Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "braze[a]", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	path := filepath.Join(dir, "parquet_keys.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(sc, f, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i, k := range parquetKeys {
		b.Field(0).(*array.StringBuilder).Append(k)
		b.Field(1).(*array.Int64Builder).Append(int64(i))
	}
	rec := b.NewRecord()
	defer rec.Release()
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func parquetKeysCase() corpusCase {
	c := corpusCase{name: "parquet_keys", dead: map[int]string{1: "UTF-8", 2: "control"}}
	for i, k := range parquetKeys {
		k := k
		c.rows = append(c.rows, srcRow{key: &k, attrs: map[string]*srcValue{"a": {text: string(rune('0' + i))}}})
	}
	return c
}

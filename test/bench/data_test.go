package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// keySpace bounds the distinct users of generated files: rows past it update users
// already sent, so a 10M-row run does not need the emulator to hold 10M profiles (which
// would measure the emulator's memory, not brazesync's).
const keySpace = 1_000_000

// benchParquet returns a Parquet file of rows users (external_id plus four typed
// attributes: int64, string, bool, float64), written once per row count into the temp
// folder and reused by later runs.
func benchParquet(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("brazesync-bench-v1-%d.parquet", rows))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".tmp"
	if err := writeParquet(tmp, rows, keySpace, false); err != nil {
		b.Fatalf("generating %d rows: %v", rows, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// writeParquet writes rows users of keys distinct keys (row i is user i%keys); changed bumps the
// score of every 100th user, the state benchmark's "1% changed" file.
func writeParquet(path string, rows, keys int, changed bool) error {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "external_id", Type: arrow.BinaryTypes.String},
		{Name: "braze[score]", Type: arrow.PrimitiveTypes.Int64},
		{Name: "braze[segment]", Type: arrow.BinaryTypes.String},
		{Name: "braze[vip]", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "braze[ltv]", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close() // pqarrow's Close closes f; this one covers the error paths
	const chunk = 65536
	w, err := pqarrow.NewFileWriter(sc, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(chunk)), pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	for start := 0; start < rows; start += chunk {
		for i := start; i < min(rows, start+chunk); i++ {
			score := int64(i % 1000)
			if changed && i%100 == 0 {
				score += 5000
			}
			rb.Field(0).(*array.StringBuilder).Append("u-" + strconv.Itoa(i%keys))
			rb.Field(1).(*array.Int64Builder).Append(score)
			rb.Field(2).(*array.StringBuilder).Append("segment-" + strconv.Itoa(i%7))
			rb.Field(3).(*array.BooleanBuilder).Append(i%3 == 0)
			rb.Field(4).(*array.Float64Builder).Append(float64(i%10000) / 4)
		}
		rec := rb.NewRecord()
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return w.Close()
}

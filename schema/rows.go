package schema

import (
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
)

// MetadataRowsTotal is the schema-metadata key under which a source tells how many rows its table
// will send, when it knows before streaming (Parquet metadata, Snowflake's result size). The runner
// reads it from a table's first record to show progress with an ETA. CloudQuery's protocol has no
// such field; other consumers ignore unknown metadata.
const MetadataRowsTotal = "brazesync:rows_total"

// WithRowsTotal returns sc with its metadata carrying n as the table's total row count.
func WithRowsTotal(sc *arrow.Schema, n int64) *arrow.Schema {
	md := sc.Metadata()
	keys, vals := append([]string(nil), md.Keys()...), append([]string(nil), md.Values()...)
	if i := md.FindKey(MetadataRowsTotal); i >= 0 {
		vals[i] = strconv.FormatInt(n, 10)
	} else {
		keys, vals = append(keys, MetadataRowsTotal), append(vals, strconv.FormatInt(n, 10))
	}
	m := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(sc.Fields(), &m)
}

// RowsTotal reads the total row count a source announced, if any.
func RowsTotal(sc *arrow.Schema) (int64, bool) {
	v, ok := sc.Metadata().GetValue(MetadataRowsTotal)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

// MetadataInferenceNote is the field-metadata key under which a source that infers column types
// from a whole file (CSV, NDJSON) notes that the start of the file alone would have typed the
// column differently: "values in the first 1000 rows are integer, but row 5120 is not: …".
// `brazesync check` shows it as a warning.
const MetadataInferenceNote = "brazesync:inference_note"

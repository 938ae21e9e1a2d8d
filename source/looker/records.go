package looker

import (
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	_ "time/tzdata" // query timezones must resolve on hosts without zoneinfo
)

// MaxRecordRows caps the rows per Arrow record so IPC messages stay small.
const MaxRecordRows = 8192

// TaggedSchema returns base (e.g. a CloudQuery table's ToArrowSchema) with
// each column's tags added to its field metadata. base must have the
// columns' fields in the same order.
func TaggedSchema(base *arrow.Schema, cols []Column) *arrow.Schema {
	fields := base.Fields()
	for i := range fields {
		if i < len(cols) {
			fields[i] = withTags(fields[i], cols[i].Tags)
		}
	}
	md := base.Metadata()
	return arrow.NewSchema(fields, &md)
}

// Location resolves a result's query timezone; empty means UTC. See TableSpec.location for the rule
// the source applies.
func Location(h *Header) (*time.Location, error) {
	if h.Timezone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(h.Timezone)
	if err != nil {
		return nil, fmt.Errorf("loading query timezone: %w", err)
	}
	return loc, nil
}

// RecordWriter turns json_detail rows into Arrow records of at most MaxRows
// rows and hands each full record to Emit.
type RecordWriter struct {
	cols    []Column
	builder *array.RecordBuilder
	loc     *time.Location
	maxRows int
	emit    func(arrow.Record) error
	pending int
	rows    int64
}

// NewRecordWriter builds records on schema (one field per column, in order).
// maxRows ≤ 0 means MaxRecordRows. Emit owns the record it is given and
// must Release it.
func NewRecordWriter(cols []Column, schema *arrow.Schema, loc *time.Location, maxRows int, emit func(arrow.Record) error) *RecordWriter {
	if maxRows <= 0 || maxRows > MaxRecordRows {
		maxRows = MaxRecordRows
	}
	return &RecordWriter{
		cols:    cols,
		builder: array.NewRecordBuilder(memory.DefaultAllocator, schema),
		loc:     loc,
		maxRows: maxRows,
		emit:    emit,
	}
}

// Append converts one row; it emits a record whenever maxRows are pending.
func (w *RecordWriter) Append(row Row) error {
	w.rows++
	for i, c := range w.cols {
		v, err := cellValue(row[c.Field.Name], c.PivotKey)
		if err == nil {
			err = appendValue(w.builder.Field(i), v, w.loc)
		}
		if err != nil {
			return fmt.Errorf("row %d, column %q: %w", w.rows, c.Name, err)
		}
	}
	w.pending++
	if w.pending >= w.maxRows {
		return w.Flush()
	}
	return nil
}

// Rows is the number of rows appended so far.
func (w *RecordWriter) Rows() int64 { return w.rows }

// Flush emits the pending rows, if any, as one record.
func (w *RecordWriter) Flush() error {
	if w.pending == 0 {
		return nil
	}
	rec := w.builder.NewRecord()
	w.pending = 0
	return w.emit(rec)
}

// Release frees the builder.
func (w *RecordWriter) Release() { w.builder.Release() }

// location is the zone in which the table's datetimes without a zone are read (Looker writes
// "2024-05-06 07:08:09", in the query's timezone):
//
//  1. the result's "timezone", the zone Looker converted the values to (its query_timezone, else
//     the user's or the connection's);
//  2. when the result names none, the spec's query.query_timezone (inline queries);
//  3. else UTC, Looker's own default for a connection without a zone.
//
// Datetimes carrying a zone or offset (RFC 3339) keep it; dates are days, not instants.
func (ts TableSpec) location(h *Header) (*time.Location, error) {
	if h.Timezone == "" && ts.Query != nil && ts.Query.QueryTimezone != "" {
		loc, err := time.LoadLocation(ts.Query.QueryTimezone)
		if err != nil {
			return nil, fmt.Errorf("query_timezone %q: %w", ts.Query.QueryTimezone, err)
		}
		return loc, nil
	}
	return Location(h)
}

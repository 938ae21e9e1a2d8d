package file

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cloudquery/plugin-sdk/v4/types"

	"github.com/brazesync/brazesync/schema"
	"github.com/brazesync/brazesync/source/sourceerr"
)

// plan is what the first pass over a CSV or NDJSON file learned: each column's kind, the number of
// rows, whether some rows cannot be read faithfully (then the schema carries
// schema.ColumnRejected and those rows are dead-lettered by the destination), and the file's
// stamp, so the second pass can tell when the file changed in between.
type plan struct {
	cols     []column
	rows     int64
	rejected bool
	stamp    stamp
}

// schema is the Arrow schema of the plan: one field per column, plus ColumnRejected when needed.
// A column whose sample disagrees with the whole file says so in its metadata (for `check`).
func (p *plan) schema() *arrow.Schema {
	fields := make([]arrow.Field, 0, len(p.cols)+1)
	for _, c := range p.cols {
		f := arrow.Field{Name: c.name, Type: c.kind.arrowType(), Nullable: true}
		if n := c.note(); n != "" {
			f.Metadata = arrow.NewMetadata([]string{schema.MetadataInferenceNote}, []string{n})
		}
		fields = append(fields, f)
	}
	if p.rejected {
		fields = append(fields, schema.RejectedField())
	}
	return arrow.NewSchema(fields, nil)
}

// stamp identifies a version of a file.
type stamp struct {
	size int64
	mod  time.Time
}

func stampOf(f *os.File) (stamp, error) {
	st, err := f.Stat()
	if err != nil {
		return stamp{}, sourceerr.Retryable(err)
	}
	return stamp{size: st.Size(), mod: st.ModTime()}, nil
}

// errChanged: the file changed between the pass that typed it and the pass that reads it. Nothing
// read so far is wrong, but the rest might not fit the types: the run stops, to be run again.
var errChanged = errors.New("the file changed while it was being read; run again once it is complete")

// recordBuilder builds the records of the second pass on the plan's schema.
type recordBuilder struct {
	sc    *arrow.Schema
	b     *array.RecordBuilder
	cells []cellBuilder
	rej   *array.StructBuilder // nil without ColumnRejected
	rows  int
}

func newRecordBuilder(p *plan, sc *arrow.Schema) *recordBuilder {
	rb := &recordBuilder{sc: sc, b: array.NewRecordBuilder(memory.DefaultAllocator, sc)}
	for i, c := range p.cols {
		rb.cells = append(rb.cells, cellBuilder{kind: c.kind, b: rb.b.Field(i)})
	}
	if p.rejected {
		rb.rej = rb.b.Field(len(p.cols)).(*array.StructBuilder)
	}
	return rb
}

// accept ends a good row; every cell has been appended.
func (rb *recordBuilder) accept() {
	if rb.rej != nil {
		rb.rej.AppendNull()
	}
	rb.rows++
}

// reject appends a row the destination dead-letters with column and reason; its cells are null.
func (rb *recordBuilder) reject(column, reason string) error {
	if rb.rej == nil {
		return errChanged // the first pass found no such row
	}
	for i := range rb.cells {
		rb.cells[i].b.AppendNull()
	}
	rb.rej.Append(true)
	rb.rej.FieldBuilder(0).(*array.StringBuilder).Append(column)
	rb.rej.FieldBuilder(1).(*array.StringBuilder).Append(reason)
	rb.rows++
	return nil
}

// record returns the rows built so far as a record, or nil when there are none.
func (rb *recordBuilder) record() arrow.Record {
	if rb.rows == 0 {
		return nil
	}
	rb.rows = 0
	return rb.b.NewRecord()
}

func (rb *recordBuilder) release() { rb.b.Release() }

// cellBuilder appends values of one column by its kind. Each append reports false when the value
// does not fit, which after the first pass means the file changed.
type cellBuilder struct {
	kind kind
	b    array.Builder
}

func (c *cellBuilder) null() { c.b.AppendNull() }

// text appends a piece of text (a CSV cell, an NDJSON string) as the column's kind.
func (c *cellBuilder) text(s string) bool {
	switch c.kind {
	case kindBool:
		if !isBoolText(s) {
			return false
		}
		c.b.(*array.BooleanBuilder).Append(s[0] == 't' || s[0] == 'T')
	case kindInt:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return false
		}
		c.b.(*array.Int64Builder).Append(v)
	case kindFloat:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return false
		}
		c.b.(*array.Float64Builder).Append(v)
	case kindNumber:
		if end, _, ok := scanNumber(s); !ok || end != len(s) {
			return false
		}
		c.b.(*types.JSONBuilder).AppendBytes([]byte(s))
	case kindDate:
		d, ok := parseDate(s)
		if !ok {
			return false
		}
		c.b.(*array.Date32Builder).Append(d)
	case kindTimestamp:
		return c.timestamp(s)
	case kindString:
		c.b.(*array.StringBuilder).Append(s)
	default:
		return false
	}
	return true
}

// timestamp appends a date-time, or a date as its midnight UTC (a column holding both).
func (c *cellBuilder) timestamp(s string) bool {
	ts, ok := parseTimestamp(s)
	if !ok {
		d, isDate := parseDate(s)
		if !isDate {
			return false
		}
		ts, ok = arrow.Timestamp(int64(d)*86_400_000_000), true
	}
	c.b.(*array.TimestampBuilder).Append(ts)
	return ok
}

// describe names a row for errors: the line of the file it starts on, never its values.
func describe(path string, line int64) string { return fmt.Sprintf("%s line %d", path, line) }

package schema

import (
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// ColumnRejected is the column through which a source hands on rows it could
// not read faithfully (a CSV line with the wrong number of fields, an NDJSON
// line that is not a JSON object): such a row travels with its position in
// the table, and the destination dead-letters it with the source's column
// and reason (reject code RejectUnreadableRow) instead of the source failing
// the run or guessing values. The column is never mapped or sent; its type
// must be RejectedType. Sources add it only to tables that need it.
const ColumnRejected = "_brazesync_rejected"

// RejectedType is the type of ColumnRejected: null for a good row, else the
// column that could not be read ("" for the whole row) and why. Neither
// field ever holds a cell's value.
var RejectedType = arrow.StructOf(
	arrow.Field{Name: "column", Type: arrow.BinaryTypes.String},
	arrow.Field{Name: "reason", Type: arrow.BinaryTypes.String},
)

// RejectedField is the ColumnRejected field a source appends to its schema.
func RejectedField() arrow.Field {
	return arrow.Field{Name: ColumnRejected, Type: RejectedType, Nullable: true}
}

// rejectReader reads ColumnRejected.
type rejectReader struct {
	validity
	column, reason stringWriter[int32]
}

func (r *rejectReader) bind(a arrow.Array) error {
	s, ok := a.(*array.Struct)
	if !ok || s.NumField() != 2 {
		return bindErr(RejectedType.String(), a)
	}
	r.validity.set(a)
	if err := r.column.bind(s.Field(0)); err != nil {
		return err
	}
	return r.reason.bind(s.Field(1))
}

func (r *rejectReader) fieldError(row int) *FieldError {
	fe := &FieldError{Row: row, Reason: "the source could not read this row", Code: RejectUnreadableRow}
	if !r.column.isNull(row) {
		fe.Column = strings.Clone(r.column.str(row)) // the record's buffers are not ours to keep
	}
	if !r.reason.isNull(row) {
		fe.Reason = strings.Clone(r.reason.str(row))
	}
	return fe
}

package actionhub

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"

	"github.com/brazesync/brazesync/source/looker"
)

// tableName names the single table of an execution in reports.
const tableName = "looker_action"

// recordSender turns decoded json_detail rows into Arrow records and hands each to send. Records
// are cut at looker.MaxRecordRows rows or recordBytes of row data, whichever comes first, so memory
// does not follow the size of the rows.
type recordSender struct {
	send       func(arrow.Record) error
	maxColumns int
	rw         *looker.RecordWriter
	pending    int   // bytes of row data in the record being built
	sendErr    error // the first error of send: the destination failed
}

func (r *recordSender) handler() looker.Handler {
	return looker.Handler{OnHeader: r.header, OnRow: r.row}
}

func (r *recordSender) header(h *looker.Header) error {
	if n := columnCount(h); n > r.maxColumns {
		return &boundError{what: fmt.Sprintf("the result has %d columns, more than the limit", n), flag: "max-columns", value: r.maxColumns}
	}
	rw, err := recordWriter(h, r.emit)
	r.rw = rw
	return err
}

func (r *recordSender) row(row looker.Row) error {
	if err := r.rw.Append(row); err != nil {
		return err
	}
	for _, cell := range row {
		r.pending += len(cell)
	}
	if r.pending >= recordBytes {
		return r.rw.Flush()
	}
	return nil
}

func (r *recordSender) emit(rec arrow.Record) error {
	defer rec.Release()
	r.pending = 0
	if err := r.send(rec); err != nil {
		r.sendErr = err
		return err
	}
	return nil
}

// close sends the rows still pending — rows read before a bad one are good rows — unless the
// destination already failed, and returns the rows decoded.
func (r *recordSender) close() int64 {
	if r.rw == nil {
		return 0
	}
	if r.sendErr == nil {
		_ = r.rw.Flush() // an error is kept in sendErr
	}
	rows := r.rw.Rows()
	r.rw.Release()
	return rows
}

// columnCount is the number of columns looker.Columns would derive: pivoted measures and table
// calculations get one column per pivot, so a small header can ask for very many.
func columnCount(h *looker.Header) int {
	n := len(h.Fields.Dimensions)
	per := 1
	if h.Pivoted() {
		per = len(h.Pivots)
	}
	return n + per*(len(h.Fields.Measures)+len(h.Fields.TableCalculations))
}

// recordWriter checks the columns for a usable ID and builds the writer.
func recordWriter(h *looker.Header, emit func(arrow.Record) error) (*looker.RecordWriter, error) {
	cols, err := looker.Columns(h)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range cols {
		for _, t := range c.Tags {
			if t == idTag {
				ids = append(ids, c.Name)
			}
		}
	}
	switch {
	case len(ids) == 0:
		return nil, errors.New("Primary Braze key not found: tag one dimension of the query braze_id")
	case len(ids) > 1:
		return nil, fmt.Errorf("several fields are tagged braze_id (%s): tag exactly one", strings.Join(ids, ", "))
	}
	loc, err := looker.Location(h)
	if err != nil {
		return nil, err
	}
	md := arrow.MetadataFrom(map[string]string{cqschema.MetadataTableName: tableName})
	return looker.NewRecordWriter(cols, looker.ArrowSchema(cols, &md), loc, 0, emit), nil
}

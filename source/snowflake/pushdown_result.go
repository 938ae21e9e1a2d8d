package snowflake

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"
)

// strip turns a record of the wrapped query into one of the query's own columns: it drops the
// row-count column and the summary row (keeping the count). Without pushdown it returns rec
// itself. The caller releases the result.
func (p *pushdown) strip(mem memory.Allocator, rec arrow.Record) (arrow.Record, error) {
	if p == nil {
		rec.Retain()
		return rec, nil
	}
	n := int(rec.NumCols()) - 1
	if n < 1 || rec.Schema().Field(n).Name != queryRowsColumn {
		return nil, fmt.Errorf("pushdown: the result's last column is not %s", queryRowsColumn)
	}
	held := rec.Column(n)
	var keep [][2]int64 // row ranges without a summary row
	from := int64(0)
	for i := 0; i < held.Len(); i++ {
		if held.IsNull(i) {
			continue
		}
		v, ok := intValue(held, i)
		if !ok {
			return nil, fmt.Errorf("pushdown: the query's row count is %s, not an integer", held.DataType())
		}
		p.queryRows.Add(v)
		p.summaries.Add(1)
		if int64(i) > from {
			keep = append(keep, [2]int64{from, int64(i)})
		}
		from = int64(i) + 1
	}
	if from < rec.NumRows() {
		keep = append(keep, [2]int64{from, rec.NumRows()})
	}
	fields := rec.Schema().Fields()[:n]
	sc := arrow.NewSchema(fields, nil)
	cols := rec.Columns()[:n]
	if len(keep) == 1 && keep[0] == [2]int64{0, rec.NumRows()} {
		return array.NewRecord(sc, cols, rec.NumRows()), nil
	}
	out := make([]arrow.Array, n)
	var rows int64
	for _, r := range keep {
		rows += r[1] - r[0]
	}
	for c := range out {
		parts := make([]arrow.Array, len(keep))
		for k, r := range keep {
			parts[k] = array.NewSlice(cols[c], r[0], r[1])
		}
		var err error
		if len(parts) == 0 {
			out[c] = array.MakeArrayOfNull(mem, cols[c].DataType(), 0)
		} else {
			out[c], err = array.Concatenate(parts, mem)
		}
		for _, a := range parts {
			a.Release()
		}
		if err != nil {
			return nil, fmt.Errorf("pushdown: dropping the summary row: %w", err)
		}
	}
	defer func() {
		for _, a := range out {
			a.Release()
		}
	}()
	return array.NewRecord(sc, out, rows), nil
}

// rowsTotal is the count of table rows in a result of total rows: the wrapped query adds one.
func (p *pushdown) rowsTotal(total int64) int64 {
	if p == nil || total == 0 {
		return total
	}
	return total - 1
}

// finish checks the summary row was seen and logs what Snowflake held back.
func (p *pushdown) finish(log zerolog.Logger, table string, sent int64) error {
	if p == nil {
		return nil
	}
	if p.summaries.Load() != 1 {
		return fmt.Errorf("pushdown: the result had %d summary rows, want 1", p.summaries.Load())
	}
	held := p.queryRows.Load() - sent
	if held < 0 {
		return fmt.Errorf("pushdown: %d rows streamed of a query of %d", sent, p.queryRows.Load())
	}
	log.Info().Str("table", table).Int64("rows_held_back", held).Int64("rows_streamed", sent).
		Msg("pushdown: rows unchanged since the warehouse state stayed in Snowflake")
	return nil
}

package file

import (
	"fmt"
	"os"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/brazesync/brazesync/source/sourceerr"
)

// textRows is what the second pass of a CSV and of an NDJSON file share: the file and its plan,
// the record being built, and the check that the file is still the one the first pass typed.
// csvRows and ndjsonRows add their own scanner and row parsing.
type textRows struct {
	path  string
	file  *os.File
	p     *plan
	rb    *recordBuilder
	batch int
	rec   arrow.Record
	err   error
	row   int64
}

func newTextRows(f FileSpec, file *os.File, p *plan, sc *arrow.Schema, batch int) textRows {
	return textRows{path: f.Path, file: file, p: p, batch: batch, rb: newRecordBuilder(p, sc)}
}

func (r *textRows) Schema() *arrow.Schema { return r.rb.sc }
func (r *textRows) Record() arrow.Record  { return r.rec }
func (r *textRows) Err() error            { return r.err }
func (r *textRows) rowsTotal() int64      { return r.p.rows }

// startBatch releases the previous record and reports whether another can be read.
func (r *textRows) startBatch() bool {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	return r.err == nil
}

// endBatch takes the rows gathered as the next record.
func (r *textRows) endBatch() bool {
	r.rec = r.rb.record()
	return r.rec != nil
}

// finish checks at the end of the file that the second pass read the file the first one typed.
func (r *textRows) finish() error {
	if r.row != r.p.rows {
		return sourceerr.Retryable(fmt.Errorf("%s: %w", r.path, errChanged))
	}
	return checkStamp(r.file, r.p)
}

func (r *textRows) Close() error {
	if r.rec != nil {
		r.rec.Release()
	}
	r.rb.release()
	return r.file.Close()
}

func checkStamp(file *os.File, p *plan) error {
	st, err := stampOf(file)
	if err != nil {
		return err
	}
	if st != p.stamp {
		return sourceerr.Retryable(fmt.Errorf("%s: %w", file.Name(), errChanged))
	}
	return nil
}

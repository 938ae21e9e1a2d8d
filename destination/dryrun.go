package destination

import (
	"bufio"
	"fmt"
	"os"
	"sync"

	"github.com/brazesync/brazesync/destination/privatefile"
	"github.com/brazesync/brazesync/destination/report"
)

// dryRun receives the request bodies a real run would send, one JSON line per request.
type dryRun struct {
	mu sync.Mutex
	f  *os.File
	w  *bufio.Writer
}

func newDryRun(path string) (*dryRun, error) {
	f, err := privatefile.Create(path) // 0600, a new file: never through a link planted there
	if err != nil {
		return nil, fmt.Errorf("opening dry_run_file: %w", err)
	}
	return &dryRun{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

// sendDry writes the body instead of sending it — already diffed against the state, so the file is
// the plan: the users, the attributes and (in the report) the data points a real run would send.
// Its objects count as skipped for "dry_run" (and rows merged into them as merged), so the report
// still adds up and never claims a user was sent.
func (w *Writer) sendDry(b *batch, body []byte) {
	w.dry.mu.Lock()
	_, err := w.dry.w.Write(append(body, '\n'))
	w.dry.mu.Unlock()
	if err != nil {
		w.setFatal(fmt.Errorf("writing dry_run_file: %w", err))
		w.deadLetterAll(b, ReasonRunFailed, err.Error(), 0, nil)
		return
	}
	objects, rows := int64(b.len()), b.rowCount()
	var points int64
	for i := range b.entries {
		points += b.entries[i].points
	}
	// The plan's cost: the data points these objects would be billed (nothing is committed).
	w.tally.Update(func(r *report.Report) {
		r.RowsSkipped["dry_run"] += objects
		r.RowsMerged += rows - objects
		r.EstimatedDataPoints += points
	})
}

func (d *dryRun) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.w.Flush(); err != nil {
		return fmt.Errorf("writing dry_run_file: %w", err)
	}
	return d.f.Close()
}

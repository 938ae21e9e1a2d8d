package destination

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/brazesync/brazesync/destination/privatefile"
)

// deadLetter is the JSONL file of rejected rows: one line per row with the user key, the reason, the
// source table, and the attributes that were not applied. The API key is never in it: it travels only
// in the Authorization header and is part of no object, answer or error. The file is created on the
// first rejection, so a clean run leaves none behind. Every line is a row whose delivery is not
// confirmed; re-sending them is safe, as attribute updates are idempotent.
type deadLetter struct {
	path string
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	err  error
}

func (d *deadLetter) write(l DeadLetterLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encoding dead letter: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	if d.f == nil {
		f, err := privatefile.Create(d.path) // 0600, a new file: never through a link planted there
		if err != nil {
			d.err = fmt.Errorf("opening dead-letter file: %w", err)
			return d.err
		}
		d.f, d.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	if _, err := d.w.Write(append(b, '\n')); err != nil {
		d.err = fmt.Errorf("writing dead-letter file: %w", err)
	}
	return d.err
}

func (d *deadLetter) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return d.err
	}
	if err := d.w.Flush(); err != nil && d.err == nil {
		d.err = fmt.Errorf("writing dead-letter file: %w", err)
	}
	if err := d.f.Close(); err != nil && d.err == nil {
		d.err = fmt.Errorf("closing dead-letter file: %w", err)
	}
	d.f = nil
	return d.err
}

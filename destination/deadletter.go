package destination

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// deadLetter is the JSONL file of rejected rows: one line per row with the user key, the reason, the
// source table, and the object that was not applied. The API key is never in it: it is not part of any
// object. The file is created on the first rejection, so a clean run leaves none behind.
type deadLetter struct {
	path string
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	err  error
}

// deadLetterLine is the documented shape of one line.
type deadLetterLine struct {
	Table     string          `json:"table"`
	Row       int64           `json:"row"`
	Key       string          `json:"key,omitempty"`
	Reason    string          `json:"reason"`
	Detail    string          `json:"detail,omitempty"`
	Column    string          `json:"column,omitempty"`
	Attribute string          `json:"attribute,omitempty"`
	Status    int             `json:"http_status,omitempty"`
	Object    json.RawMessage `json:"object,omitempty"`
}

func (d *deadLetter) write(l deadLetterLine) error {
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
		f, err := os.OpenFile(d.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			d.err = fmt.Errorf("opening dead-letter file: %w", err)
			return d.err
		}
		d.f, d.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	d.w.Write(b)
	if err := d.w.WriteByte('\n'); err != nil {
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

func (d *deadLetter) used() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.f != nil || d.err != nil
}

package destination

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
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

// deadLetterLine is the documented shape of one line.
type deadLetterLine struct {
	// Table is the source table (cq:table_name), Row the row's number within it for this run (from 0).
	Table string `json:"table"`
	Row   int64  `json:"row"`
	// Key is the user key as sent (the alias name for user_alias keys).
	Key string `json:"key,omitempty"`
	// Reason is the stable reason, also a key of the report's rows_rejected.
	Reason string `json:"reason"`
	// Detail is Braze's own error type or message, or the encoder's reason.
	Detail string `json:"detail,omitempty"`
	// Column and Attribute name the value the encoder refused (invalid_value only; the value itself
	// is not written: the encoder keeps no partial object and values may be PII the user did not
	// mean to copy into a file).
	Column    string `json:"column,omitempty"`
	Attribute string `json:"attribute,omitempty"`
	// Status is the HTTP status of the last answer, when there was one.
	Status int `json:"http_status,omitempty"`
	// MergedRows is set when the object held several rows of the same user (each has its own line).
	MergedRows int `json:"merged_rows,omitempty"`
	// Attributes is the attributes object that was not applied, exactly as built for Braze.
	Attributes json.RawMessage `json:"attributes,omitempty"`
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

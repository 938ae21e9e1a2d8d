package file

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/brazesync/brazesync/source/sourceerr"
)

// CSV files: the first line is the header, kept exactly as written (a leading UTF-8 byte-order
// mark excepted); an empty cell is null; every other cell is text, typed by inference over the
// whole file (infer.go). A line whose number of fields differs from the header's, or with a stray
// quote, is a row the destination dead-letters, naming the line; an unterminated quoted field is
// an error, since every line after it would be read as part of it.

func newCSVReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.FieldsPerRecord = -1 // checked per row, to dead-letter the row rather than fail the file
	cr.ReuseRecord = true
	return cr
}

// csvHeader reads the header line.
func csvHeader(path string, cr *csv.Reader) ([]string, error) {
	h, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, sourceerr.Config(fmt.Errorf("%s: no header line: a CSV file starts with its column names", path))
	case err != nil:
		return nil, csvFatal(path, err)
	}
	h = append([]string(nil), h...)
	h[0] = strings.TrimPrefix(h[0], "\ufeff")
	return h, nil
}

// csvFatal classifies a read error that ends the file: a syntax error is the file's (a
// configuration problem: fix the file), anything else an I/O failure (retryable).
func csvFatal(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return sourceerr.Config(fmt.Errorf("%s line %d: %w", path, pe.StartLine, pe.Err))
	}
	return sourceerr.Retryable(fmt.Errorf("reading %s: %w", path, err))
}

// csvRowProblem is why a row cannot be read, or "" when it can; fatal errors end the file.
func csvRowProblem(path string, rec []string, err error, width int) (string, error) {
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrBareQuote) {
			return fmt.Sprintf("line %d: %v", pe.StartLine, pe.Err), nil
		}
		return "", csvFatal(path, err)
	}
	if len(rec) != width {
		return fmt.Sprintf("row has %d fields, the header %d", len(rec), width), nil
	}
	return "", nil
}

// inferCSV is the first pass: the header, then every row's cells typed.
func inferCSV(f FileSpec) (*plan, error) {
	file, err := os.Open(f.Path)
	if err != nil {
		return nil, openError(err)
	}
	defer file.Close()
	p := &plan{}
	if p.stamp, err = stampOf(file); err != nil {
		return nil, err
	}
	cr := newCSVReader(file)
	header, err := csvHeader(f.Path, cr)
	if err != nil {
		return nil, err
	}
	for _, name := range header {
		p.cols = append(p.cols, f.newColumn(name))
	}
	if err := f.checkPins(header); err != nil {
		return nil, err
	}
	for ; ; p.rows++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		problem, err := csvRowProblem(f.Path, rec, err, len(header))
		if err != nil {
			return nil, err
		}
		if problem != "" || !typeCSVRow(p, rec) {
			p.rejected = true
		}
	}
	p.applyPins()
	return p, nil
}

// typeCSVRow widens the columns by one row; false (and nothing widened) when a value does not fit
// its pinned type, since the row will be dead-lettered.
func typeCSVRow(p *plan, rec []string) bool {
	for i, cell := range rec {
		if c := &p.cols[i]; cell != "" && c.pin != kindNull && !fits(c.pin, cell) {
			return false
		}
	}
	for i, cell := range rec {
		if c := &p.cols[i]; cell != "" && c.pin == kindNull && c.kind != kindString {
			c.see(textKind(cell, true), p.rows, kindString)
		}
	}
	return true
}

// csvRows is the second pass: records of at most batch rows on the plan's schema.
type csvRows struct {
	textRows
	cr *csv.Reader
}

func openCSV(f FileSpec, p *plan, sc *arrow.Schema, batch int) (*csvRows, error) {
	file, err := os.Open(f.Path)
	if err != nil {
		return nil, openError(err)
	}
	r := &csvRows{textRows: newTextRows(f, file, p, sc, batch), cr: newCSVReader(file)}
	_, err = csvHeader(f.Path, r.cr)
	if err == nil {
		err = checkStamp(file, p)
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Next builds the next record.
func (r *csvRows) Next() bool {
	if !r.startBatch() {
		return false
	}
	for n := 0; n < r.batch; n++ {
		rec, err := r.cr.Read()
		if errors.Is(err, io.EOF) {
			r.err = r.finish()
			break
		}
		if r.err = r.row1(rec, err); r.err != nil {
			return false
		}
	}
	return r.endBatch()
}

// row1 appends one row, good or rejected.
func (r *csvRows) row1(rec []string, readErr error) error {
	defer func() { r.row++ }()
	problem, err := csvRowProblem(r.path, rec, readErr, len(r.p.cols))
	if err != nil {
		return err
	}
	if problem == "" {
		if col, reason := r.pinProblem(rec); reason != "" {
			return r.rb.reject(col, reason)
		}
	}
	if problem != "" {
		return r.rb.reject("", problem)
	}
	for i, cell := range rec {
		c := &r.rb.cells[i]
		if cell == "" {
			c.null()
		} else if !c.text(cell) {
			return sourceerr.Retryable(fmt.Errorf("%s row %d, column %q: %w", r.path, r.row, r.p.cols[i].name, errChanged))
		}
	}
	r.rb.accept()
	return nil
}

// pinProblem names the first cell that does not fit its pinned type.
func (r *csvRows) pinProblem(rec []string) (string, string) {
	for i, cell := range rec {
		if c := &r.p.cols[i]; cell != "" && c.pin != kindNull && !fits(c.pin, cell) {
			return c.name, c.pinReason()
		}
	}
	return "", ""
}

// openError classifies a failure to open a file named in the spec.
func openError(err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return sourceerr.NotFound(err)
	case errors.Is(err, os.ErrPermission):
		return sourceerr.PermissionDenied(err)
	}
	return sourceerr.Retryable(err)
}

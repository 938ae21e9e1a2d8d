package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/brazesync/brazesync/source/sourceerr"
)

// recordReader streams a file's rows as Arrow records of at most batchRows rows. Memory stays
// bounded by one batch (plus, for Parquet, one row group's pages) however large the file.
type recordReader interface {
	Schema() *arrow.Schema
	Next() bool
	Record() arrow.Record
	Err() error
	Close() error
}

// openRows opens the second pass of a CSV or NDJSON file on its plan, or a Parquet file.
func openRows(ctx context.Context, f FileSpec, p *plan, sc *arrow.Schema, batchRows int) (recordReader, error) {
	switch f.Format {
	case FormatCSV:
		return openCSV(f, p, sc, batchRows)
	case FormatNDJSON:
		return openNDJSON(f, p, sc, batchRows)
	case FormatParquet:
		return openParquet(ctx, f.Path, batchRows)
	}
	return nil, configError(fmt.Errorf("unknown format %q", f.Format))
}

type parquetReader struct {
	rr  pqarrow.RecordReader
	pf  *file.Reader
	rec arrow.Record
	err error
}

func openParquet(ctx context.Context, path string, batchRows int) (*parquetReader, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, parquetOpenError(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(batchRows), Parallel: false}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, configError(err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		pf.Close()
		return nil, configError(err)
	}
	return &parquetReader{rr: rr, pf: pf}, nil
}

// parquetOpenError: a file that cannot be opened is missing or unreadable; one that opens but is
// not Parquet is the spec's (or the file's) fault.
func parquetOpenError(err error) error {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		return openError(err)
	}
	return configError(fmt.Errorf("not a Parquet file: %w", err))
}

func (p *parquetReader) Schema() *arrow.Schema { return p.rr.Schema() }

// rowsTotal is known from the Parquet footer before any row is read.
func (p *parquetReader) rowsTotal() int64     { return p.pf.NumRows() }
func (p *parquetReader) Next() bool           { return p.rr.Next() }
func (p *parquetReader) Record() arrow.Record { return p.rr.Record() }
func (p *parquetReader) Err() error {
	if err := p.rr.Err(); err != nil && err != io.EOF {
		return sourceerr.Retryable(err)
	}
	return nil
}
func (p *parquetReader) Close() error { p.rr.Release(); return p.pf.Close() }

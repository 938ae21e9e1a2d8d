package file

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/csv"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
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

func openReader(ctx context.Context, f FileSpec, batchRows int) (recordReader, error) {
	switch f.Format {
	case FormatCSV:
		return openCSV(f.Path, batchRows)
	case FormatParquet:
		return openParquet(ctx, f.Path, batchRows)
	case FormatNDJSON:
		return openNDJSON(f.Path, batchRows)
	}
	return nil, fmt.Errorf("unknown format %q", f.Format)
}

// csvReader infers column types from the first batch (Arrow's inferring reader: integers, floats,
// booleans, dates, timestamps, else strings) and reads the header for names, kept exactly as written.
type csvReader struct {
	*csv.Reader
	f *os.File
}

func openCSV(path string, batchRows int) (*csvReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := csv.NewInferringReader(bufio.NewReaderSize(f, 1<<20), csv.WithHeader(true), csv.WithChunk(batchRows),
		csv.WithNullReader(true, ""), csv.WithAllocator(memory.DefaultAllocator))
	return &csvReader{Reader: r, f: f}, nil
}

func (c *csvReader) Close() error { c.Reader.Release(); return c.f.Close() }

type parquetReader struct {
	rr  pqarrow.RecordReader
	pf  *file.Reader
	rec arrow.Record
	err error
}

func openParquet(ctx context.Context, path string, batchRows int) (*parquetReader, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, err
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(batchRows), Parallel: false}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, err
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		pf.Close()
		return nil, err
	}
	return &parquetReader{rr: rr, pf: pf}, nil
}

func (p *parquetReader) Schema() *arrow.Schema { return p.rr.Schema() }

// rowsTotal is known from the Parquet footer before any row is read.
func (p *parquetReader) rowsTotal() int64     { return p.pf.NumRows() }
func (p *parquetReader) Next() bool           { return p.rr.Next() }
func (p *parquetReader) Record() arrow.Record { return p.rr.Record() }
func (p *parquetReader) Err() error {
	if err := p.rr.Err(); err != nil && err != io.EOF {
		return err
	}
	return nil
}
func (p *parquetReader) Close() error { p.rr.Release(); return p.pf.Close() }

// ndjsonReader reads one JSON object per line on a schema inferred from the first lines.
type ndjsonReader struct {
	*array.JSONReader
	f *os.File
}

func openNDJSON(path string, batchRows int) (*ndjsonReader, error) {
	sc, err := inferNDJSON(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := array.NewJSONReader(bufio.NewReaderSize(f, 1<<20), sc, array.WithChunk(batchRows))
	return &ndjsonReader{JSONReader: r, f: f}, nil
}

func (n *ndjsonReader) Close() error { n.JSONReader.Release(); return n.f.Close() }

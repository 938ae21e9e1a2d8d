package snowflake

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	sf "github.com/snowflakedb/gosnowflake"

	bzschema "github.com/brazesync/brazesync/schema"
	"github.com/brazesync/brazesync/source/sourceerr"
)

// MaxRecordRows caps the rows per record sent to the destination, so
// each IPC message stays small.
const MaxRecordRows = 8192

// Sync runs each selected query and streams its result. A panic is recovered into an error naming
// the query and the rows sent so far, so one result never kills the plugin.
func (c *Client) Sync(ctx context.Context, opts plugin.SyncOptions, res chan<- message.SyncMessage) (err error) {
	where := "connecting"
	defer sourceerr.Recover(&err, func() string { return where }, c.logStack)
	tables, err := c.Tables(ctx, plugin.TableOptions{Tables: opts.Tables, SkipTables: opts.SkipTables, SkipDependentTables: opts.SkipDependentTables})
	if err != nil {
		return err
	}
	for _, qt := range c.tables {
		where = "running query " + qt.query.Name
		if tables.Get(qt.table.Name) == nil {
			continue
		}
		select {
		case res <- &message.SyncMigrateTable{Table: qt.table}:
		case <-ctx.Done():
			return fmt.Errorf("query %s: cancelled: %w", qt.query.Name, ctx.Err())
		}
		if err := c.syncQuery(ctx, qt, res); err != nil {
			return err
		}
	}
	return nil
}

// syncQuery runs one query on a dedicated connection and sends its rows.
func (c *Client) syncQuery(ctx context.Context, qt *queryTable, res chan<- message.SyncMessage) error {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return c.explain("query ", qt.query.Name, err)
	}
	defer conn.Close()
	qidCh := make(chan string, 1)
	// The conversion options must sit on the query's context: the driver
	// reads them there, not from ArrowBatch.WithContext.
	qctx := sf.WithArrowBatches(ctx)
	qctx = sf.WithArrowBatchesTimestampOption(qctx, sf.UseMicrosecondTimestamp)
	qctx = sf.WithHigherPrecision(qctx)
	qctx = sf.WithQueryTag(qctx, c.spec.QueryTag)
	qctx = sf.WithQueryIDChan(qctx, qidCh)
	qt.pushdown = c.planPushdown(ctx, qt) // nil: the query runs as written (pushdown.go)
	start := time.Now()
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("driver connection cannot run queries")
		}
		rows, err := qc.QueryContext(qctx, qt.pushdown.querySQL(qt), nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		sfRows, ok := rows.(sf.SnowflakeRows)
		if !ok {
			return errors.New("driver rows are not Snowflake rows")
		}
		batches, err := sfRows.GetArrowBatches()
		if err != nil {
			return err
		}
		total, known := totalRows(rows)
		total = qt.pushdown.rowsTotal(total)
		c.logger.Info().Str("table", qt.query.Name).Str("query_id", sfRows.GetQueryID()).
			Int64("rows", total).Bool("rows_known", known).Int("batches", len(batches)).Msg("query finished, streaming result")
		if known {
			qt.schema = bzschema.WithRowsTotal(qt.schema, total) // lets the runner show an ETA
		}
		sent, err := c.stream(ctx, qt, batches, res)
		if err == nil && known && sent != total {
			err = sourceerr.Retryable(fmt.Errorf("streamed %d rows but Snowflake reported %d", sent, total))
		}
		if err == nil {
			err = qt.pushdown.finish(c.logger, qt.query.Name, sent)
		}
		c.logger.Info().Str("table", qt.query.Name).Int64("rows", sent).Dur("took", time.Since(start)).Msg("query streamed")
		return err
	})
	if err != nil {
		if qid := queryID(qidCh); qid != "" {
			var se *sf.SnowflakeError
			if !errors.As(err, &se) || se.QueryID == "" {
				err = fmt.Errorf("query id %s: %w", qid, err)
			}
		}
		return c.explain("query ", qt.query.Name, err)
	}
	return nil
}

func queryID(ch chan string) string {
	select {
	case id := <-ch:
		return id
	default:
		return ""
	}
}

// totalRows reads the result's total row count, which Snowflake sends
// with the first response, from the driver's chunk downloader. gosnowflake
// v1.12.0 does not export it; reflection keeps this read-only and falls
// back to "unknown" if the driver's shape changes.
func totalRows(rows driver.Rows) (int64, bool) {
	v := reflect.ValueOf(rows)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 0, false
	}
	cd := v.Elem().FieldByName("ChunkDownloader")
	if !cd.IsValid() || cd.Kind() != reflect.Interface || cd.IsNil() {
		return 0, false
	}
	scd := cd.Elem()
	if scd.Kind() != reflect.Pointer || scd.IsNil() || scd.Elem().Kind() != reflect.Struct {
		return 0, false
	}
	t := scd.Elem().FieldByName("Total")
	if !t.IsValid() || t.Kind() != reflect.Int64 {
		return 0, false
	}
	return t.Int(), true
}

type fetched struct {
	recs *[]arrow.Record
	err  error
}

// stream fetches the batches with at most FetchConcurrency downloads in
// flight or waiting, and sends them in order. Memory is bounded by that
// window, not by the result size.
func (c *Client) stream(ctx context.Context, qt *queryTable, batches []*sf.ArrowBatch, res chan<- message.SyncMessage) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]chan fetched, len(batches))
	for i := range results {
		results[i] = make(chan fetched, 1)
	}
	window := make(chan struct{}, c.spec.FetchConcurrency)
	go func() {
		for i, b := range batches {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				var f fetched
				defer func() { results[i] <- f }()
				defer sourceerr.Recover(&f.err, func() string { return fmt.Sprintf("fetching result chunk %d", i+1) }, c.logStack)
				f.recs, f.err = b.WithContext(ctx).Fetch()
			}()
		}
	}()
	mem := memory.DefaultAllocator
	var sent int64
	for i := range batches {
		var f fetched
		select {
		case f = <-results[i]:
		case <-ctx.Done():
			return sent, ctx.Err()
		}
		if f.err != nil {
			return sent, fmt.Errorf("fetching result chunk %d of %d: %w", i+1, len(batches), f.err)
		}
		n, err := c.sendBatch(ctx, mem, qt, *f.recs, res)
		if err != nil {
			err = fmt.Errorf("result chunk %d, after %d rows: %w", i+1, sent+n, err)
		}
		sent += n
		releaseAll(*f.recs)
		<-window
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func releaseAll(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// sendBatch converts one fetched chunk and sends it as records of at most
// MaxRecordRows rows.
func (c *Client) sendBatch(ctx context.Context, mem memory.Allocator, qt *queryTable, recs []arrow.Record, res chan<- message.SyncMessage) (int64, error) {
	var sent int64
	for _, rec := range recs {
		out, err := convertRecord(mem, qt, rec)
		if err != nil {
			return sent, err
		}
		for lo := int64(0); lo < out.NumRows(); lo += MaxRecordRows {
			part := out.NewSlice(lo, min(lo+MaxRecordRows, out.NumRows()))
			select {
			case res <- &message.SyncInsert{Record: part}:
				sent += part.NumRows()
			case <-ctx.Done():
				part.Release()
				out.Release()
				return sent, ctx.Err()
			}
		}
		out.Release()
	}
	return sent, nil
}

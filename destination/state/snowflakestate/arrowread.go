package snowflakestate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	sf "github.com/snowflakedb/gosnowflake"
)

// streamArrow runs a query through the driver's Arrow batch API and calls fn for every record,
// in order, one batch in memory at a time.
func streamArrow(ctx context.Context, db *sql.DB, query string, fn func(arrow.Record) error, args ...any) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	qctx := sf.WithArrowBatches(ctx)
	return conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("driver connection cannot run queries")
		}
		rows, err := qc.QueryContext(qctx, query, named)
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
		return fetchInOrder(ctx, batches, fn)
	})
}

// prefetch is how many result chunks download ahead of the one being read: the driver fetches
// an Arrow batch only when asked, so reading them one by one would leave the link idle.
const prefetch = 3

type fetched struct {
	recs *[]arrow.Record
	err  error
}

// fetchInOrder calls fn for every record of every batch, in order, downloading up to prefetch
// batches ahead; memory holds at most that many chunks.
func fetchInOrder(ctx context.Context, batches []*sf.ArrowBatch, fn func(arrow.Record) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]chan fetched, len(batches))
	for i := range results {
		results[i] = make(chan fetched, 1)
	}
	window := make(chan struct{}, prefetch)
	go func() {
		for i, b := range batches {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				recs, err := b.WithContext(ctx).Fetch()
				results[i] <- fetched{recs, err}
			}()
		}
	}()
	for i := range batches {
		var f fetched
		select {
		case f = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if f.err != nil {
			return fmt.Errorf("fetching result chunk %d of %d: %w", i+1, len(batches), f.err)
		}
		err := eachRecord(*f.recs, fn)
		<-window
		if err != nil {
			return err
		}
	}
	return nil
}

// eachRecord calls fn for every record and releases them all.
func eachRecord(recs []arrow.Record, fn func(arrow.Record) error) error {
	var err error
	for _, rec := range recs {
		if err == nil {
			err = fn(rec)
		}
		rec.Release()
	}
	return err
}

// intAt reads row i of an integer column of any width (the driver picks the narrowest per batch).
func intAt(col arrow.Array, i int) (int64, bool) {
	if col.IsNull(i) {
		return 0, false
	}
	switch a := col.(type) {
	case *array.Int8:
		return int64(a.Value(i)), true
	case *array.Int16:
		return int64(a.Value(i)), true
	case *array.Int32:
		return int64(a.Value(i)), true
	case *array.Int64:
		return a.Value(i), true
	}
	return 0, false
}

func stringAt(col arrow.Array, i int) (string, bool) {
	a, ok := col.(*array.String)
	if !ok || a.IsNull(i) {
		return "", false
	}
	return a.Value(i), true
}

func binaryAt(col arrow.Array, i int) ([]byte, bool) {
	a, ok := col.(*array.Binary)
	if !ok || a.IsNull(i) {
		return nil, false
	}
	return a.Value(i), true
}

func boolAt(col arrow.Array, i int) (bool, bool) {
	a, ok := col.(*array.Boolean)
	if !ok || a.IsNull(i) {
		return false, false
	}
	return a.Value(i), true
}

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
		for i, b := range batches {
			recs, err := b.Fetch()
			if err != nil {
				return fmt.Errorf("fetching result chunk %d of %d: %w", i+1, len(batches), err)
			}
			for k, rec := range *recs {
				err := fn(rec)
				rec.Release()
				if err != nil {
					for _, r := range (*recs)[k+1:] {
						r.Release()
					}
					return err
				}
			}
		}
		return nil
	})
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

package snowflake

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/cloudquery/plugin-sdk/v4/types"
	sf "github.com/snowflakedb/gosnowflake"
)

// queryTable is a query and the table it defines.
type queryTable struct {
	query  Query
	table  *schema.Table
	schema *arrow.Schema // table.ToArrowSchema(), built once
	cols   []colSpec
	// pushdown is the query's diff pushdown during a sync, nil without one (pushdown.go).
	pushdown *pushdown
}

// colSpec is what converting one column needs: Snowflake's type and scale
// and the Arrow type the table declares.
type colSpec struct {
	name   string
	sfType string // FIXED, REAL, TEXT, …, as the driver reports it
	scale  int64
	arrow  arrow.DataType
}

// timestampType is the single Arrow type for all three Snowflake
// timestamps: microseconds since the epoch, as a UTC instant.
var timestampType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// arrowType maps a Snowflake column type to the table's Arrow type.
//
//	NUMBER(p,0)                     int64 (error if a value overflows)
//	NUMBER(p,s>0)                   decimal128(p,s), exact
//	FLOAT                           float64
//	VARCHAR                         utf8
//	BOOLEAN                         bool
//	DATE                            date32
//	TIMESTAMP_NTZ/LTZ/TZ            timestamp(us, UTC); NTZ wall clock read as UTC, TZ offset dropped
//	VARIANT/ARRAY/OBJECT            CloudQuery JSON extension (binary storage, JSON text)
//	BINARY                          binary
func arrowType(sfType string, precision, scale int64) (arrow.DataType, error) {
	switch sfType {
	case "FIXED":
		if scale == 0 {
			return arrow.PrimitiveTypes.Int64, nil
		}
		return &arrow.Decimal128Type{Precision: int32(precision), Scale: int32(scale)}, nil
	case "REAL":
		return arrow.PrimitiveTypes.Float64, nil
	case "TEXT":
		return arrow.BinaryTypes.String, nil
	case "BOOLEAN":
		return arrow.FixedWidthTypes.Boolean, nil
	case "DATE":
		return arrow.FixedWidthTypes.Date32, nil
	case "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
		return timestampType, nil
	case "VARIANT", "ARRAY", "OBJECT":
		return types.NewJSONType(), nil
	case "BINARY":
		return arrow.BinaryTypes.Binary, nil
	case "TIME":
		return nil, fmt.Errorf("TIME columns are not supported by the Arrow batch path (the driver drops their scale); cast them with TO_VARCHAR(col)")
	}
	return nil, fmt.Errorf("Snowflake type %s is not supported; cast the column to VARCHAR or VARIANT", sfType)
}

// describe runs the query describe-only (Snowflake compiles it and returns
// the result's columns without executing it) and builds its table.
func (c *Client) describe(ctx context.Context, q Query) (*queryTable, error) {
	dctx := sf.WithQueryTag(sf.WithDescribeOnly(ctx), c.spec.QueryTag)
	rows, err := c.db.QueryContext(dctx, q.SQL)
	if err != nil {
		return nil, c.explain("describing query ", q.Name, err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("describing query %s: %w", q.Name, err)
	}
	qt := &queryTable{query: q, table: &schema.Table{Name: q.Name, Description: "Snowflake query " + q.Name}}
	for _, ct := range cts {
		prec, scale, _ := ct.DecimalSize()
		dt, err := arrowType(ct.DatabaseTypeName(), prec, scale)
		if err != nil {
			return nil, fmt.Errorf("query %s column %s: %w", q.Name, ct.Name(), err)
		}
		qt.cols = append(qt.cols, colSpec{name: ct.Name(), sfType: ct.DatabaseTypeName(), scale: scale, arrow: dt})
		qt.table.Columns = append(qt.table.Columns, schema.Column{Name: ct.Name(), Type: dt})
	}
	if len(qt.cols) == 0 {
		return nil, fmt.Errorf("query %s returns no columns", q.Name)
	}
	qt.schema = qt.table.ToArrowSchema()
	return qt, nil
}

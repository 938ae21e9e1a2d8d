package looker

import (
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
)

// Timestamps are microseconds in UTC; Looker's zone-less datetimes are read
// in the result's query timezone (json_detail "timezone"), else UTC.
var timestampType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// integerMeasures always produce whole numbers.
var integerMeasures = map[string]bool{"count": true, "count_distinct": true}

// floatTypes are Looker field types whose values are numbers.
var floatTypes = map[string]bool{
	"number": true, "sum": true, "average": true, "min": true, "max": true,
	"median": true, "percentile": true, "sum_distinct": true, "average_distinct": true,
	"median_distinct": true, "percentile_distinct": true, "running_total": true,
	"percent_of_total": true, "percent_of_previous": true, "int": true,
}

// dateTimeframes are dimension-group timeframes whose value is a calendar day.
var dateTimeframes = map[string]bool{"date": true, "week": true}

// timeTimeframes are timeframes whose value is a point in time.
var timeTimeframes = map[string]bool{
	"time": true, "raw": true, "second": true, "minute": true, "hour": true,
	"millisecond": true, "microsecond": true,
}

// ArrowType maps a Looker field type to an Arrow type:
//
//	count, count_distinct                        → int64
//	number, sum, average, min, max, … (numeric)  → float64
//	yesno                                        → bool
//	date, <group>_date, <group>_week             → date32
//	time, datetime, <group>_time/_raw/_second/_minute/_hour → timestamp[us, UTC]
//	everything else (string, tier, zipcode, <group>_month, …) → utf8
//
// A field tagged braze_id is always utf8 so identifiers keep their exact
// digits. Table calculations carry no reliable type: numeric ones are
// float64, the rest utf8.
func ArrowType(f Field, kind string) arrow.DataType {
	for _, t := range f.Tags {
		if t == IDTag {
			return arrow.BinaryTypes.String
		}
	}
	if kind == "table_calculation" {
		if f.IsNumeric {
			return arrow.PrimitiveTypes.Float64
		}
		return arrow.BinaryTypes.String
	}
	typ := strings.ToLower(f.Type)
	switch {
	case integerMeasures[typ]:
		return arrow.PrimitiveTypes.Int64
	case floatTypes[typ]:
		return arrow.PrimitiveTypes.Float64
	case typ == "yesno":
		return arrow.FixedWidthTypes.Boolean
	case typ == "date" || typ == "date_date":
		return arrow.FixedWidthTypes.Date32
	case typ == "time" || typ == "datetime":
		return timestampType
	}
	if i := strings.LastIndexByte(typ, '_'); i >= 0 {
		frame := typ[i+1:]
		switch {
		case dateTimeframes[frame] && !strings.HasSuffix(typ, "_day_of_week"):
			return arrow.FixedWidthTypes.Date32
		case timeTimeframes[frame]:
			return timestampType
		}
	}
	return arrow.BinaryTypes.String
}

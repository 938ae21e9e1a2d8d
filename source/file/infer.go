package file

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
)

// inferLines is how many NDJSON lines decide the column types.
const inferLines = 1000

// inferNDJSON derives a schema from the first lines of an NDJSON file: booleans, integers (int64),
// other numbers (float64), RFC 3339 strings (timestamp, UTC), other strings, arrays of strings, and
// objects kept as JSON text. Integers and floats in one column make it float64; any other
// disagreement is an error naming the column (Arrow's reader cannot put a number into a string
// column, and guessing would change values). Columns keep the order in which they first appear.
func inferNDJSON(path string) (*arrow.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	types := map[string]arrow.DataType{}
	var order []string
	for n := 0; n < inferLines && sc.Scan(); n++ {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n+1, err)
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t := jsonType(obj[k])
			prev, seen := types[k]
			if !seen {
				order = append(order, k)
			}
			u := unify(prev, t)
			if u == nil {
				return nil, fmt.Errorf("%s line %d: column %q holds both %s and %s values; give it one type", path, n+1, k, prev, t)
			}
			types[k] = u
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	fields := make([]arrow.Field, len(order))
	for i, k := range order {
		t := types[k]
		if t == nil || t.ID() == arrow.NULL {
			t = arrow.BinaryTypes.String
		}
		fields[i] = arrow.Field{Name: k, Type: t, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

var timestampUTC = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

func jsonType(v any) arrow.DataType {
	switch x := v.(type) {
	case nil:
		return arrow.Null
	case bool:
		return arrow.FixedWidthTypes.Boolean
	case float64:
		if x == float64(int64(x)) {
			return arrow.PrimitiveTypes.Int64
		}
		return arrow.PrimitiveTypes.Float64
	case string:
		if _, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return timestampUTC
		}
		return arrow.BinaryTypes.String
	case []any:
		return arrow.ListOf(arrow.BinaryTypes.String)
	}
	return arrow.BinaryTypes.String
}

func unify(a, b arrow.DataType) arrow.DataType {
	switch {
	case a == nil || a.ID() == arrow.NULL:
		return b
	case b.ID() == arrow.NULL || arrow.TypeEqual(a, b):
		return a
	case a.ID() == arrow.INT64 && b.ID() == arrow.FLOAT64, a.ID() == arrow.FLOAT64 && b.ID() == arrow.INT64:
		return arrow.PrimitiveTypes.Float64
	}
	return nil
}

package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cloudquery/plugin-sdk/v4/types"
)

// valueCase is one column type with its input values and, per row, the
// expected attribute text after `"external_id":"k<i>"`, or "!reason" for a
// rejected row.
type valueCase struct {
	name string
	dt   arrow.DataType
	vals string // JSON array, one value per row
	cfg  Config
	want []string
}

// encodeColumn encodes a two-column record (key k<i>, attribute v) built
// from vals and returns the attribute part of each row.
func encodeColumn(t *testing.T, dt arrow.DataType, vals string, cfg Config) []string {
	t.Helper()
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(vals), &raw); err != nil {
		t.Fatalf("bad vals: %v", err)
	}
	rows := make([]string, len(raw))
	for i, v := range raw {
		rows[i] = fmt.Sprintf(`{"id":"k%d","v":%s}`, i, v)
	}
	sc := arrow.NewSchema([]arrow.Field{field("id", arrow.BinaryTypes.String, "braze_id"), field("v", dt, "braze[v]")}, nil)
	rec := recordFromJSON(t, sc, "["+strings.Join(rows, ",")+"]")
	return encodeRecordColumn(t, mustMapping(t, sc, cfg), rec)
}

func encodeRecordColumn(t *testing.T, m *Mapping, rec arrow.Record) []string {
	t.Helper()
	var got []string
	for i, o := range encodeAll(t, m, rec) {
		switch {
		case o.Reject != "":
			got = append(got, "!"+o.Reject[strings.Index(o.Reject, ": ")+2:])
		case o.Skip != "":
			got = append(got, "skip:"+o.Skip)
		default:
			prefix := fmt.Sprintf(`"external_id":"k%d"`, i)
			if !strings.HasPrefix(o.JSON, prefix) {
				t.Fatalf("row %d: %q lacks identifier prefix", i, o.JSON)
			}
			s := strings.TrimPrefix(o.JSON, prefix)
			if !json.Valid([]byte("{" + o.JSON + "}")) {
				t.Fatalf("row %d: invalid JSON {%s}", i, o.JSON)
			}
			got = append(got, s)
		}
	}
	return got
}

func runValueCases(t *testing.T, cases []valueCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := encodeColumn(t, tc.dt, tc.vals, tc.cfg)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestScalarTypes(t *testing.T) {
	long := strings.Repeat("é", 255)
	runValueCases(t, []valueCase{
		{"string", arrow.BinaryTypes.String, `["Ann", "", "a\"b\\c\n\t\u0001", "ünï €", null]`,
			Config{}, []string{`,"v":"Ann"`, `,"v":""`, `,"v":"a\"b\\c\n\t\u0001"`, `,"v":"ünï €"`, ``}},
		{"large string", arrow.BinaryTypes.LargeString, `["x", null]`, Config{}, []string{`,"v":"x"`, ``}},
		{"string 255 chars ok, 256 rejected", arrow.BinaryTypes.String,
			`["` + long + `", "` + long + `x"]`, Config{},
			[]string{`,"v":"` + long + `"`, "!" + reasonTooLong}},
		{"string 256 chars truncated", arrow.BinaryTypes.String,
			`["` + long + `x"]`, Config{LongStrings: LongStringsTruncate}, []string{`,"v":"` + long + `"`}},
		{"nulls unset", arrow.BinaryTypes.String, `[null, "a"]`, Config{Nulls: NullsUnset}, []string{`,"v":null`, `,"v":"a"`}},
		{"bool", arrow.FixedWidthTypes.Boolean, `[true, false, null]`, Config{}, []string{`,"v":true`, `,"v":false`, ``}},
		{"int8", arrow.PrimitiveTypes.Int8, `[-128, 127, 0]`, Config{}, []string{`,"v":-128`, `,"v":127`, `,"v":0`}},
		{"int16", arrow.PrimitiveTypes.Int16, `[-32768, 32767]`, Config{}, []string{`,"v":-32768`, `,"v":32767`}},
		{"int32", arrow.PrimitiveTypes.Int32, `[-2147483648, 2147483647]`, Config{}, []string{`,"v":-2147483648`, `,"v":2147483647`}},
		{"int64", arrow.PrimitiveTypes.Int64, `["-9223372036854775808", "9223372036854775807", null]`, Config{},
			[]string{`,"v":-9223372036854775808`, `,"v":9223372036854775807`, ``}},
		{"uint8", arrow.PrimitiveTypes.Uint8, `[0, 255]`, Config{}, []string{`,"v":0`, `,"v":255`}},
		{"uint16", arrow.PrimitiveTypes.Uint16, `[65535]`, Config{}, []string{`,"v":65535`}},
		{"uint32", arrow.PrimitiveTypes.Uint32, `[4294967295]`, Config{}, []string{`,"v":4294967295`}},
		{"uint64", arrow.PrimitiveTypes.Uint64, `["18446744073709551615"]`, Config{}, []string{`,"v":18446744073709551615`}},
		{"float32", arrow.PrimitiveTypes.Float32, `[0.1, -2.5, 1e30, 0]`, Config{},
			[]string{`,"v":0.1`, `,"v":-2.5`, `,"v":1e+30`, `,"v":0`}},
		{"float64", arrow.PrimitiveTypes.Float64, `[12.5, 0.1, 1e-7, 1e21, 123456789012345680000, -0.000001]`, Config{},
			[]string{`,"v":12.5`, `,"v":0.1`, `,"v":1e-7`, `,"v":1e+21`, `,"v":123456789012345680000`, `,"v":-0.000001`}},
		{"float16", arrow.FixedWidthTypes.Float16, `[1.5, null]`, Config{}, []string{`,"v":1.5`, ``}},
		{"decimal128", &arrow.Decimal128Type{Precision: 38, Scale: 2},
			`["12.50", "-0.05", "0", "12345678901234567890123456789012.34", "-99999999999999999999999999999999999.99"]`, Config{},
			[]string{`,"v":12.50`, `,"v":-0.05`, `,"v":0.00`, `,"v":12345678901234567890123456789012.34`, `,"v":-99999999999999999999999999999999999.99`}},
		{"decimal128 scale 0", &arrow.Decimal128Type{Precision: 10, Scale: 0}, `["42", "-7"]`, Config{}, []string{`,"v":42`, `,"v":-7`}},
		{"decimal128 scale > digits", &arrow.Decimal128Type{Precision: 10, Scale: 6}, `["0.000123"]`, Config{}, []string{`,"v":0.000123`}},
		{"decimal256", &arrow.Decimal256Type{Precision: 76, Scale: 4},
			`["123456789012345678901234567890123456789012345678901234567890123456789012.3456", "-1.0001"]`, Config{},
			[]string{`,"v":123456789012345678901234567890123456789012345678901234567890123456789012.3456`, `,"v":-1.0001`}},
		{"date32", arrow.FixedWidthTypes.Date32, `["2024-01-02", "1969-12-31", "0001-01-01", "3000-12-31", null]`, Config{},
			[]string{`,"v":"2024-01-02T00:00:00Z"`, `,"v":"1969-12-31T00:00:00Z"`, `,"v":"0001-01-01T00:00:00Z"`, `,"v":"3000-12-31T00:00:00Z"`, ``}},
		{"date32 out of range", arrow.FixedWidthTypes.Date32, `["3001-01-01", "9999-12-31"]`, Config{},
			[]string{"!" + reasonDateRange, "!" + reasonDateRange}},
		{"date64", arrow.FixedWidthTypes.Date64, `["2024-02-29", "1900-03-01"]`, Config{},
			[]string{`,"v":"2024-02-29T00:00:00Z"`, `,"v":"1900-03-01T00:00:00Z"`}},
		{"timestamp s", &arrow.TimestampType{Unit: arrow.Second}, `["2024-01-02T03:04:05Z"]`, Config{}, []string{`,"v":"2024-01-02T03:04:05Z"`}},
		{"timestamp ms", &arrow.TimestampType{Unit: arrow.Millisecond}, `["2024-01-02T03:04:05.678Z", "2024-01-02T03:04:05Z", "1960-06-15T23:59:59.001Z"]`, Config{},
			[]string{`,"v":"2024-01-02T03:04:05.678Z"`, `,"v":"2024-01-02T03:04:05Z"`, `,"v":"1960-06-15T23:59:59.001Z"`}},
		{"timestamp us zoned", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "America/New_York"}, `["2024-07-01T12:00:00.000001Z"]`, Config{},
			[]string{`,"v":"2024-07-01T12:00:00.000001Z"`}},
		{"timestamp ns", &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, `["1969-12-31T23:59:59.999999999Z"]`, Config{},
			[]string{`,"v":"1969-12-31T23:59:59.999999999Z"`}},
		{"time32 s", arrow.FixedWidthTypes.Time32s, `["12:34:56", "00:00:00"]`, Config{}, []string{`,"v":"12:34:56"`, `,"v":"00:00:00"`}},
		{"time32 ms", arrow.FixedWidthTypes.Time32ms, `["12:34:56.789"]`, Config{}, []string{`,"v":"12:34:56.789"`}},
		{"time64 us", arrow.FixedWidthTypes.Time64us, `["23:59:59.000001"]`, Config{}, []string{`,"v":"23:59:59.000001"`}},
		{"time64 ns", arrow.FixedWidthTypes.Time64ns, `["01:02:03.000000004"]`, Config{}, []string{`,"v":"01:02:03.000000004"`}},
		{"null type", arrow.Null, `[null]`, Config{Nulls: NullsUnset}, []string{`,"v":null`}},
		{"uuid", types.NewUUIDType(), `["6ba7b810-9dad-11d1-80b4-00c04fd430c8", null]`, Config{},
			[]string{`,"v":"6ba7b810-9dad-11d1-80b4-00c04fd430c8"`, ``}},
		{"json", types.NewJSONType(), `[{"a":[1,2]}, "s", 3, null]`, Config{},
			[]string{`,"v":{"a":[1,2]}`, `,"v":"s"`, `,"v":3`, ``}},
		{"inet", types.NewInetType(), `["192.168.0.1/24"]`, Config{}, []string{`,"v":"192.168.0.1/24"`}},
		{"mac", types.NewMACType(), `["08:00:2b:01:02:03"]`, Config{}, []string{`,"v":"08:00:2b:01:02:03"`}},
	})
}

func TestNestedTypes(t *testing.T) {
	st := arrow.StructOf(
		arrow.Field{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "born", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		arrow.Field{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	)
	runValueCases(t, []valueCase{
		{"list<string> dedupes, drops nulls", arrow.ListOf(arrow.BinaryTypes.String),
			`[["hotdog","hotdog","pizza",null,"hotdog"], [], null, [null]]`, Config{},
			[]string{`,"v":["hotdog","pizza"]`, `,"v":[]`, ``, `,"v":[]`}},
		{"large list<int64>", arrow.LargeListOf(arrow.PrimitiveTypes.Int64), `[[1,2,1,3]]`, Config{}, []string{`,"v":[1,2,3]`}},
		{"fixed list<float64>", arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float64), `[[1.5,1.5],[2,3]]`, Config{},
			[]string{`,"v":[1.5]`, `,"v":[2,3]`}},
		{"list<date32> as strings", arrow.ListOf(arrow.FixedWidthTypes.Date32), `[["2024-01-02"]]`, Config{},
			[]string{`,"v":["2024-01-02T00:00:00Z"]`}},
		{"list<string> long element rejected", arrow.ListOf(arrow.BinaryTypes.String), `[["` + strings.Repeat("x", 256) + `"]]`, Config{},
			[]string{"!" + reasonTooLong}},
		{"list<float64> NaN free", arrow.ListOf(arrow.PrimitiveTypes.Float64), `[[0.5]]`, Config{}, []string{`,"v":[0.5]`}},
		{"struct with $time and omitted nulls", st,
			`[{"name":"Rex","born":"2020-05-06","tags":["a","a"]}, {"name":null,"born":null,"tags":null}, null]`, Config{},
			[]string{`,"v":{"name":"Rex","born":{"$time":"2020-05-06T00:00:00Z"},"tags":["a","a"]}`, `,"v":{}`, ``}},
		{"list<struct> is an array of objects", arrow.ListOf(st), `[[{"name":"a"},{"name":"a"}]]`, Config{},
			[]string{`,"v":[{"name":"a"},{"name":"a"}]`}},
		{"map<string,int64>", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64),
			`[[{"key":"a","value":1},{"key":"b","value":null},{"key":"c","value":3}], []]`, Config{},
			[]string{`,"v":{"a":1,"c":3}`, `,"v":{}`}},
		{"map bad keys", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64),
			`[[{"key":"a.b","value":1}], [{"key":"$x","value":1}], [{"key":"a b","value":1}], [{"key":"","value":1}], [{"key":"a","value":1},{"key":"a","value":2}]]`, Config{},
			[]string{"!" + reasonNestedKey, "!" + reasonNestedKey, "!" + reasonNestedKey, "!" + reasonNestedKey, "!" + reasonDuplicateKey}},
		{"map<string,timestamp> uses $time", arrow.MapOf(arrow.BinaryTypes.String, arrow.FixedWidthTypes.Timestamp_s),
			`[[{"key":"at","value":"2024-01-02T03:04:05Z"}]]`, Config{}, []string{`,"v":{"at":{"$time":"2024-01-02T03:04:05Z"}}`}},
	})
}

// TestBuiltValues covers values JSON input cannot express: NaN, infinities,
// invalid UTF-8, invalid JSON, dictionaries and out-of-range times.
func TestBuiltValues(t *testing.T) {
	mem := memory.DefaultAllocator
	build := func(dt arrow.DataType, fill func(b array.Builder)) arrow.Record {
		kb := array.NewStringBuilder(mem)
		vb := array.NewBuilder(mem, dt)
		fill(vb)
		n := vb.Len()
		for i := 0; i < n; i++ {
			kb.Append(fmt.Sprintf("k%d", i))
		}
		sc := arrow.NewSchema([]arrow.Field{field("id", arrow.BinaryTypes.String, "braze_id"), field("v", dt, "braze[v]")}, nil)
		rec := array.NewRecord(sc, []arrow.Array{kb.NewArray(), vb.NewArray()}, int64(n))
		t.Cleanup(rec.Release)
		return rec
	}
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	cases := []struct {
		name string
		dt   arrow.DataType
		fill func(b array.Builder)
		want []string
	}{
		{"float64 non-finite", arrow.PrimitiveTypes.Float64, func(b array.Builder) {
			b.(*array.Float64Builder).AppendValues([]float64{math.NaN(), math.Inf(1), math.Inf(-1), 1}, nil)
		}, []string{"!" + reasonNotFinite, "!" + reasonNotFinite, "!" + reasonNotFinite, `,"v":1`}},
		{"float32 NaN", arrow.PrimitiveTypes.Float32, func(b array.Builder) {
			b.(*array.Float32Builder).Append(float32(math.NaN()))
		}, []string{"!" + reasonNotFinite}},
		{"invalid utf-8 refused, never replaced", arrow.BinaryTypes.String, func(b array.Builder) {
			b.(*array.StringBuilder).AppendValues([]string{"a\xffb", "\xc3", "ok"}, nil)
		}, []string{"!" + reasonInvalidUTF8, "!" + reasonInvalidUTF8, `,"v":"ok"`}},
		{"invalid utf-8 in a dictionary refused", dictType, func(b array.Builder) {
			_ = b.(*array.BinaryDictionaryBuilder).AppendString("u\xfe2")
		}, []string{"!" + reasonInvalidUTF8}},
		{"dictionary<string>", dictType, func(b array.Builder) {
			db := b.(*array.BinaryDictionaryBuilder)
			_ = db.AppendString("red")
			_ = db.AppendString("blue")
			_ = db.AppendString("red")
			db.AppendNull()
		}, []string{`,"v":"red"`, `,"v":"blue"`, `,"v":"red"`, ``}},
		{"dictionary<int64>", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.PrimitiveTypes.Int64}, func(b array.Builder) {
			db := b.(*array.Int64DictionaryBuilder)
			_ = db.Append(7)
			_ = db.Append(7)
		}, []string{`,"v":7`, `,"v":7`}},
		{"invalid json", types.NewJSONType(), func(b array.Builder) {
			b.(*types.JSONBuilder).AppendBytes([]byte(`{"a":`))
			b.(*types.JSONBuilder).AppendBytes([]byte(` null `))
		}, []string{"!" + reasonInvalidJSON, ``}},
		{"json too big", types.NewJSONType(), func(b array.Builder) {
			var obj strings.Builder
			obj.WriteString(`{"z":1`)
			for i := 0; obj.Len() <= maxNestedBytes; i++ {
				fmt.Fprintf(&obj, `,"k%d":1`, i)
			}
			b.(*types.JSONBuilder).AppendBytes([]byte(obj.String() + "}"))
		}, []string{"!" + reasonNestedTooBig}},
		{"time32 out of range", arrow.FixedWidthTypes.Time32s, func(b array.Builder) {
			b.(*array.Time32Builder).AppendValues([]arrow.Time32{-1, 86400, 86399}, nil)
		}, []string{"!" + reasonTimeRange, "!" + reasonTimeRange, `,"v":"23:59:59"`}},
		{"timestamp out of range", arrow.FixedWidthTypes.Timestamp_s, func(b array.Builder) {
			b.(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{math.MinInt64, math.MaxInt64, -62167219200}, nil)
		}, []string{"!" + reasonDateRange, "!" + reasonDateRange, `,"v":"0000-01-01T00:00:00Z"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := build(tc.dt, tc.fill)
			sc := rec.Schema()
			got := encodeRecordColumn(t, mustMapping(t, sc, Config{}), rec)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestUnsupportedTypes(t *testing.T) {
	cases := []struct {
		dt   arrow.DataType
		want string
	}{
		{arrow.BinaryTypes.Binary, "Braze has no binary type"},
		{arrow.BinaryTypes.LargeBinary, "Braze has no binary type"},
		{&arrow.FixedSizeBinaryType{ByteWidth: 4}, "Braze has no binary type"},
		{arrow.FixedWidthTypes.Duration_s, "unsupported type duration"},
		{arrow.FixedWidthTypes.MonthInterval, "unsupported type month_interval"},
		{arrow.ListOf(arrow.ListOf(arrow.PrimitiveTypes.Int64)), "one-dimensional"},
		{arrow.MapOf(arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int64), "map keys must be strings"},
		{arrow.StructOf(arrow.Field{Name: "a.b", Type: arrow.PrimitiveTypes.Int64}), `struct field "a.b"`},
		{arrow.StructOf(arrow.Field{Name: "x", Type: arrow.BinaryTypes.Binary}), `struct field "x": unsupported type binary`},
	}
	for _, tc := range cases {
		t.Run(tc.dt.String(), func(t *testing.T) {
			sc := arrow.NewSchema([]arrow.Field{field("id", arrow.BinaryTypes.String, "braze_id"), field("COL", tc.dt, "braze[attr]")}, nil)
			_, err := NewMapping(sc, Config{})
			if err == nil {
				t.Fatal("NewMapping succeeded")
			}
			if !strings.Contains(err.Error(), `column "COL" (attribute "attr")`) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q should name the column and contain %q", err, tc.want)
			}
		})
	}
}

package looker

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestArrowType(t *testing.T) {
	cases := []struct {
		f    Field
		kind string
		want arrow.DataType
	}{
		{Field{Type: "string"}, "dimension", arrow.BinaryTypes.String},
		{Field{Type: "number", Tags: []string{"braze_id"}}, "dimension", arrow.BinaryTypes.String},
		{Field{Type: "count"}, "measure", arrow.PrimitiveTypes.Int64},
		{Field{Type: "count_distinct"}, "measure", arrow.PrimitiveTypes.Int64},
		{Field{Type: "sum"}, "measure", arrow.PrimitiveTypes.Float64},
		{Field{Type: "number"}, "dimension", arrow.PrimitiveTypes.Float64},
		{Field{Type: "yesno"}, "dimension", arrow.FixedWidthTypes.Boolean},
		{Field{Type: "date"}, "dimension", arrow.FixedWidthTypes.Date32},
		{Field{Type: "created_date"}, "dimension", arrow.FixedWidthTypes.Date32},
		{Field{Type: "created_week"}, "dimension", arrow.FixedWidthTypes.Date32},
		{Field{Type: "created_day_of_week"}, "dimension", arrow.BinaryTypes.String},
		{Field{Type: "created_month"}, "dimension", arrow.BinaryTypes.String},
		{Field{Type: "created_time"}, "dimension", timestampType},
		{Field{Type: "created_raw"}, "dimension", timestampType},
		{Field{Type: "created_hour"}, "dimension", timestampType},
		{Field{Type: "created_hour_of_day"}, "dimension", arrow.BinaryTypes.String},
		{Field{Type: "tier"}, "dimension", arrow.BinaryTypes.String},
		{Field{IsNumeric: true}, "table_calculation", arrow.PrimitiveTypes.Float64},
		{Field{}, "table_calculation", arrow.BinaryTypes.String},
	}
	for _, c := range cases {
		assert.True(t, arrow.TypeEqual(c.want, ArrowType(c.f, c.kind)), "%+v → %s", c.f, ArrowType(c.f, c.kind))
	}
}

func TestAppendValue(t *testing.T) {
	mem := memory.NewGoAllocator()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	ok := []struct {
		typ  arrow.DataType
		in   string
		want string
	}{
		{arrow.BinaryTypes.String, `"Zoë"`, "Zoë"},
		{arrow.BinaryTypes.String, `12345678901234567890`, "12345678901234567890"},
		{arrow.BinaryTypes.String, `true`, "true"},
		{arrow.BinaryTypes.String, `{"a":1}`, `{"a":1}`},
		{arrow.PrimitiveTypes.Int64, `42`, "42"},
		{arrow.PrimitiveTypes.Int64, `42.0`, "42"},
		{arrow.PrimitiveTypes.Int64, `"7"`, "7"},
		{arrow.PrimitiveTypes.Float64, `0.25`, "0.25"},
		{arrow.FixedWidthTypes.Boolean, `"Yes"`, "true"},
		{arrow.FixedWidthTypes.Boolean, `false`, "false"},
		{arrow.FixedWidthTypes.Date32, `"2021-06-10"`, "2021-06-10"},
		{timestampType, `"2021-06-10 12:34:56"`, "2021-06-10T16:34:56Z"},
		{timestampType, `"2021-06-10 12:34"`, "2021-06-10T16:34:00Z"},
		{timestampType, `"2021-06-10T12:34:56Z"`, "2021-06-10T12:34:56Z"},
	}
	for _, c := range ok {
		b := array.NewBuilder(mem, c.typ)
		require.NoError(t, appendValue(b, json.RawMessage(c.in), ny), c.in)
		arr := b.NewArray()
		got := arr.ValueStr(0)
		if ts, isTS := arr.(*array.Timestamp); isTS {
			got = ts.Value(0).ToTime(arrow.Microsecond).UTC().Format(time.RFC3339)
		}
		assert.Equal(t, c.want, got, c.in)
	}
	bad := []struct {
		typ arrow.DataType
		in  string
	}{
		{arrow.PrimitiveTypes.Int64, `1.5`},
		{arrow.PrimitiveTypes.Float64, `"abc"`},
		{arrow.FixedWidthTypes.Boolean, `"maybe"`},
		{arrow.FixedWidthTypes.Date32, `"2021-13-01"`},
		{timestampType, `"yesterday"`},
	}
	for _, c := range bad {
		b := array.NewBuilder(mem, c.typ)
		err := appendValue(b, json.RawMessage(c.in), time.UTC)
		require.Error(t, err, c.in)
		assert.NotContains(t, err.Error(), c.in[1:len(c.in)-1], "values never appear in errors")
	}
}

func TestCellValue(t *testing.T) {
	v, err := cellValue(json.RawMessage(`{"value":3,"rendered":"3","links":[]}`), "")
	require.NoError(t, err)
	assert.Equal(t, "3", string(v))
	v, err = cellValue(json.RawMessage(`{"k=a":{"value":1},"k=b":{"value":2}}`), "k=b")
	require.NoError(t, err)
	assert.Equal(t, "2", string(v))
	v, err = cellValue(json.RawMessage(`{"k=a":{"value":1}}`), "k=z")
	require.NoError(t, err)
	assert.Nil(t, v)
	_, err = cellValue(json.RawMessage(`{"k=a":{"value":1}}`), "")
	assert.Error(t, err, "a pivoted cell in an unpivoted column is an error, not a silent null")
	_, err = cellValue(json.RawMessage(`"bare"`), "")
	assert.ErrorIs(t, err, errNotCell)
}

func TestColumnsTagsAndPivots(t *testing.T) {
	h := &Header{Fields: Fields{
		Dimensions: []Field{{Name: "u.id", Type: "string", Tags: []string{"braze_id"}}, {Name: "u.n", Type: "string", Tags: []string{"braze[name]", "other"}}},
		Measures:   []Field{{Name: "s.count", Type: "count", Tags: []string{"kpi"}}},
	}}
	cols, err := Columns(h)
	require.NoError(t, err)
	sc := ArrowSchema(cols, nil)
	v, ok := sc.Field(1).Metadata.GetValue(TagsMetadataKey)
	require.True(t, ok)
	assert.JSONEq(t, `["braze[name]","other"]`, v)

	h.Fields.Pivots = []Field{{Name: "u.p"}}
	h.Pivots = []Pivot{{Key: "u.p=a"}, {Key: "u.p=b"}}
	cols, err = Columns(h)
	require.NoError(t, err)
	require.Len(t, cols, 4)
	assert.Equal(t, "s.count|u.p=b", cols[3].Name)
	assert.Equal(t, []string{"kpi"}, cols[3].Tags)
}

package snowflake

import (
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/cloudquery/plugin-sdk/v4/types"
	"github.com/stretchr/testify/require"
)

// TestAllTypes syncs the emulator's ALL_TYPES table (one column per
// Snowflake type) through the real driver and checks each mapped type and
// value, including 2^53+1, negative scaled decimals and zone offsets.
func TestAllTypes(t *testing.T) {
	e := startEmu(t, snowflakeemuOptions())
	p, err := initPlugin(t, emuSpec(e, Query{Name: "all_types", SQL: "SELECT * FROM ALL_TYPES ORDER BY ID DESC NULLS LAST"}))
	require.NoError(t, err)
	recs := syncAll(t, p)["all_types"]
	require.Len(t, recs, 1)
	rec := recs[0]
	require.EqualValues(t, 3, rec.NumRows())

	want := map[string]arrow.DataType{
		"ID": arrow.PrimitiveTypes.Int64, "AMOUNT": &arrow.Decimal128Type{Precision: 10, Scale: 2},
		"BIG_AMOUNT": &arrow.Decimal128Type{Precision: 38, Scale: 4}, "RATIO": arrow.PrimitiveTypes.Float64,
		"NAME": arrow.BinaryTypes.String, "ACTIVE": arrow.FixedWidthTypes.Boolean, "BIRTHDAY": arrow.FixedWidthTypes.Date32,
		"UPDATED_NTZ": timestampType, "UPDATED_NTZ3": timestampType, "SEEN_LTZ": timestampType,
		"SEEN_TZ": timestampType, "SEEN_TZ3": timestampType,
		"ATTRS": types.NewJSONType(), "TAGS": types.NewJSONType(), "PREFS": types.NewJSONType(),
	}
	sc := rec.Schema()
	require.Equal(t, len(want), sc.NumFields())
	for i, f := range sc.Fields() {
		require.Truef(t, arrow.TypeEqual(want[f.Name], f.Type), "column %s: got %s want %s", f.Name, f.Type, want[f.Name])
		_ = i
	}
	tn, _ := sc.Metadata().GetValue("cq:table_name")
	require.Equal(t, "all_types", tn)

	col := func(name string) arrow.Array { return rec.Column(sc.FieldIndices(name)[0]) }
	ts := func(name string, row int) time.Time {
		return col(name).(*array.Timestamp).Value(row).ToTime(arrow.Microsecond)
	}
	require.Equal(t, int64(9007199254740993), col("ID").(*array.Int64).Value(0))
	require.Equal(t, int64(-7), col("ID").(*array.Int64).Value(1))
	require.Equal(t, "123.45", dec(col("AMOUNT"), 0))
	require.Equal(t, "-0.05", dec(col("AMOUNT"), 1))
	require.Equal(t, "-98765432109876.5432", dec(col("BIG_AMOUNT"), 0))
	require.Equal(t, 0.25, col("RATIO").(*array.Float64).Value(0))
	require.Equal(t, -1.5e10, col("RATIO").(*array.Float64).Value(1))
	require.Equal(t, "Zoë", col("NAME").(*array.String).Value(0))
	require.Equal(t, "", col("NAME").(*array.String).Value(1))
	require.True(t, col("ACTIVE").(*array.Boolean).Value(0))
	require.False(t, col("ACTIVE").(*array.Boolean).Value(1))
	require.Equal(t, "1990-02-28", col("BIRTHDAY").(*array.Date32).Value(0).FormattedString())
	require.Equal(t, "1969-12-31", col("BIRTHDAY").(*array.Date32).Value(1).FormattedString())
	require.Equal(t, time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC), ts("UPDATED_NTZ", 0))
	require.Equal(t, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), ts("UPDATED_NTZ", 1))
	require.Equal(t, time.Date(2024, 5, 6, 7, 8, 9, 123000000, time.UTC), ts("UPDATED_NTZ3", 0))
	require.Equal(t, time.Date(2024, 5, 6, 7, 8, 9, 654321000, time.UTC), ts("SEEN_LTZ", 0))
	require.Equal(t, time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC), ts("SEEN_TZ", 0), "+02:00 becomes the UTC instant")
	require.Equal(t, time.Date(2000, 1, 1, 8, 0, 0, 0, time.UTC), ts("SEEN_TZ", 1))
	require.Equal(t, time.Date(2024, 5, 6, 7, 8, 9, 500000000, time.UTC), ts("SEEN_TZ3", 0), "-05:30 at scale 3")
	require.Equal(t, time.Date(1999, 12, 31, 10, 0, 0, 0, time.UTC), ts("SEEN_TZ3", 1))
	require.JSONEq(t, `{"plan":"gold","score":7}`, col("ATTRS").(array.ExtensionArray).ValueStr(0))
	require.JSONEq(t, `42`, col("ATTRS").(array.ExtensionArray).ValueStr(1))
	require.JSONEq(t, `["a","b"]`, col("TAGS").(array.ExtensionArray).ValueStr(0))
	require.JSONEq(t, `[1,{"x":null}]`, col("TAGS").(array.ExtensionArray).ValueStr(1))
	require.JSONEq(t, `{"email":true,"push":false}`, col("PREFS").(array.ExtensionArray).ValueStr(0))
	for i := 0; i < sc.NumFields(); i++ {
		require.Truef(t, rec.Column(i).IsNull(2), "column %s row 3 should be NULL", sc.Field(i).Name)
	}
}

// dec renders row i of a decimal128 column exactly.
func dec(a arrow.Array, i int) string {
	d := a.(*array.Decimal128)
	return d.Value(i).ToString(d.DataType().(*arrow.Decimal128Type).Scale)
}

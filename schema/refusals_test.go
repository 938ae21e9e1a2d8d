package schema

import (
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cloudquery/plugin-sdk/v4/types"
)

// stringRecord builds a record of string columns from rows of cells (nil is null), byte for byte:
// Arrow's JSON reader cannot hold invalid UTF-8.
func stringRecord(t *testing.T, sc *arrow.Schema, rows [][]*string) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, row := range rows {
		for i, cell := range row {
			sb := b.Field(i).(*array.StringBuilder)
			if cell == nil {
				sb.AppendNull()
			} else {
				sb.Append(*cell)
			}
		}
	}
	rec := b.NewRecord()
	t.Cleanup(rec.Release)
	return rec
}

func sp(s string) *string { return &s }

// TestKeysAreNeverAltered: a key that is not valid UTF-8, holds a control character or is longer
// than MaxKeyChars is refused (code invalid_key, reason named, the key itself not reported), never
// repaired; keys at the limits go through byte for byte.
func TestKeysAreNeverAltered(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{field("id", str, "braze_id"), field("a", str, "braze[a]")}, nil)
	cases := []struct {
		key, reason string
	}{
		{"u\xfe2", reasonKeyUTF8},
		{"\xc3", reasonKeyUTF8},
		{"u\x002", reasonKeyControl},
		{"u\x1f", reasonKeyControl},
		{"u\x7f", reasonKeyControl},
		{"u\u0085x", reasonKeyControl},
		{"tab\tkey", reasonKeyControl},
		{strings.Repeat("k", MaxKeyChars+1), reasonKeyTooLong},
		{strings.Repeat("é", MaxKeyChars+1), reasonKeyTooLong},
		{strings.Repeat("k", 1_000_000), reasonKeyTooLong},
		{strings.Repeat("é", MaxKeyChars), ""},
		{"u\u00a0x", ""},
		{"Zoë 😀", ""},
	}
	var rows [][]*string
	for _, tc := range cases {
		rows = append(rows, []*string{sp(tc.key), sp("v")})
	}
	rec := stringRecord(t, sc, rows)
	enc := mustMapping(t, sc, Config{}).NewEncoder()
	if err := enc.Reset(rec); err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		out, res := enc.AppendRow(nil, i)
		if tc.reason == "" {
			want := `"external_id":` + string(mustAppendString(t, tc.key)) + `,"a":"v"`
			if res.Reject != nil || string(out) != want || string(res.Key) != tc.key {
				t.Errorf("key %.20q: %s %+v, want it sent as it is", tc.key, out, res.Reject)
			}
			continue
		}
		if res.Reject == nil || res.Reject.Reason != tc.reason || res.Reject.Code != RejectInvalidKey ||
			res.Reject.Column != "id" || res.Reject.Attribute != "external_id" {
			t.Errorf("key %.20q: %+v, want refused: %s", tc.key, res.Reject, tc.reason)
			continue
		}
		if len(out) != 0 || res.Key != nil {
			t.Errorf("key %.20q: refused but wrote %q, key %q", tc.key, out, res.Key)
		}
	}
}

func mustAppendString(t *testing.T, s string) []byte {
	t.Helper()
	b, reason := appendString(nil, s, 0, false)
	if reason != "" {
		t.Fatalf("appendString(%q): %s", s, reason)
	}
	return b
}

// TestNullsDroppedAreCounted: nulls inside values (list elements, struct fields, map items, JSON
// members and elements) are left out and counted per row; a top-level null is an absent attribute,
// not counted; a rejected row reports none.
func TestNullsDroppedAreCounted(t *testing.T) {
	st := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true})
	sc := arrow.NewSchema([]arrow.Field{
		field("id", str, "braze_id"),
		field("l", arrow.ListOf(arrow.PrimitiveTypes.Int64), "braze[l]"),
		field("s", st, "braze[s]"),
		field("m", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), "braze[m]"),
		field("j", types.NewJSONType(), "braze[j]"),
	}, nil)
	rec := recordFromJSON(t, sc, `[
		{"id":"u1","l":[1,null,2],"s":{"a":null,"b":"x"},"m":[{"key":"k","value":null},{"key":"q","value":1}],"j":{"x":null,"y":[null,1],"z":{"w":null}}},
		{"id":"u2","l":null,"s":null,"m":null,"j":null},
		{"id":"u3","l":[1],"s":{"a":1,"b":"x"},"m":[],"j":{"x":1}},
		{"id":"u4","l":[null],"s":null,"m":null,"j":{"a.b":null}}
	]`)
	enc := mustMapping(t, sc, Config{}).NewEncoder()
	if err := enc.Reset(rec); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		json  string
		nulls int
	}{
		{`"external_id":"u1","l":[1,2],"s":{"b":"x"},"m":{"q":1},"j":{"y":[1],"z":{}}`, 6},
		{`"external_id":"u2"`, 0},
		{`"external_id":"u3","l":[1],"s":{"a":1,"b":"x"},"m":{},"j":{"x":1}`, 0},
		{"!" + reasonNestedKey, 0},
	}
	for i, w := range want {
		out, res := enc.AppendRow(nil, i)
		got := string(out)
		if res.Reject != nil {
			got = "!" + res.Reject.Reason
		}
		if got != w.json || res.NullsDropped != w.nulls {
			t.Errorf("row %d: %s with %d nulls dropped, want %s with %d", i, got, res.NullsDropped, w.json, w.nulls)
		}
	}
}

// TestSourceRejectedRows: a row the source marked in ColumnRejected is dead-lettered with the
// source's column and reason before its key is looked at; the column is never mapped, and a user
// column of that name with another type is refused.
func TestSourceRejectedRows(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{field("external_id", str), field("braze[a]", str), RejectedField()}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	rej := b.Field(2).(*array.StructBuilder)
	add := func(key, a *string, col, reason string) {
		for i, v := range []*string{key, a} {
			if v == nil {
				b.Field(i).(*array.StringBuilder).AppendNull()
			} else {
				b.Field(i).(*array.StringBuilder).Append(*v)
			}
		}
		if reason == "" {
			rej.AppendNull()
			return
		}
		rej.Append(true)
		rej.FieldBuilder(0).(*array.StringBuilder).Append(col)
		rej.FieldBuilder(1).(*array.StringBuilder).Append(reason)
	}
	add(sp("u1"), sp("x"), "", "")
	add(nil, nil, "", "line is not a JSON object")
	add(sp("u3"), nil, "braze[a]", "value changed type")
	rec := b.NewRecord()
	defer rec.Release()
	m := mustMapping(t, sc, Config{})
	for _, c := range m.Columns() {
		if c.Column == ColumnRejected && c.Ignored == "" {
			t.Errorf("%s is mapped: %+v", ColumnRejected, c)
		}
	}
	got := encodeAll(t, m, rec)
	want := []string{`"external_id":"u1","a":"x"`, `/: line is not a JSON object`, `braze[a]/: value changed type`}
	for i, w := range want {
		g := got[i].JSON
		if got[i].Reject != "" {
			g = got[i].Reject
		}
		if g != w {
			t.Errorf("row %d: %q, want %q", i, g, w)
		}
	}
	bad := arrow.NewSchema([]arrow.Field{field("external_id", str), field(ColumnRejected, str)}, nil)
	if _, err := NewMapping(bad, Config{}); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("a string column named %s: %v, want refused as reserved", ColumnRejected, err)
	}
}

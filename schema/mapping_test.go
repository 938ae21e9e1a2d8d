package schema

import (
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
)

var str = arrow.BinaryTypes.String

func TestFieldTags(t *testing.T) {
	f := arrow.Field{Name: "a", Type: str, Metadata: arrow.NewMetadata([]string{"other", MetadataTags}, []string{"x", `["old"]`})}
	g := FieldWithTags(f, "braze_id", "braze[first_name]")
	if got := FieldTags(g); !reflect.DeepEqual(got, []string{"braze_id", "braze[first_name]"}) {
		t.Errorf("FieldTags = %q", got)
	}
	if v, ok := g.Metadata.GetValue("other"); !ok || v != "x" {
		t.Errorf("other metadata lost: %v", g.Metadata)
	}
	if v, _ := g.Metadata.GetValue(MetadataTags); v != `["braze_id","braze[first_name]"]` {
		t.Errorf("raw tags = %s", v)
	}
	if FieldTags(arrow.Field{Name: "b"}) != nil {
		t.Error("untagged field has tags")
	}
	bad := arrow.Field{Metadata: arrow.NewMetadata([]string{MetadataTags}, []string{"not json"})}
	if FieldTags(bad) != nil {
		t.Error("malformed tags parsed")
	}
}

func TestParseAttrTag(t *testing.T) {
	// braze[] parses to an empty name, which mapping then refuses as an invalid attribute name.
	cases := map[string]string{"braze[first_name]": "first_name", "braze[]": ""}
	for in, want := range cases {
		if got, ok := parseAttrTag(in); !ok || got != want {
			t.Errorf("parseAttrTag(%q) = %q,%v", in, got, ok)
		}
	}
	for _, in := range []string{"xbraze[a]", "braze[a", "BRAZE[a]", "braze[a]x", "braze", "braze_id", " braze[a]", "braze[a]b]", "braze[[a]]"} {
		if _, ok := parseAttrTag(in); ok {
			t.Errorf("parseAttrTag(%q) matched", in)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string // "" = valid
	}{
		{Config{}, ""},
		{Config{UserKey: "foo"}, `user_key: "foo" is not one of external_id, braze_id, user_alias, email, phone`},
		{Config{UserKey: "user_alias"}, "alias_label: required when user_key is user_alias"},
		{Config{UserKey: "user_alias", AliasLabel: "crm"}, ""},
		{Config{Nulls: "drop"}, `nulls: "drop" is not one of skip, unset`},
		{Config{LongStrings: "cut"}, `long_strings: "cut" is not one of reject, truncate`},
		{Config{KeyColumn: "_cq_id"}, `key_column: "_cq_id" is an internal column`},
		{Config{Attributes: map[string]string{"A": ""}}, `attributes: column "A": attribute name is empty`},
		{Config{Attributes: map[string]string{"A": "$x"}}, `attributes: column "A": attribute name "$x" starts with '$'`},
		{Config{Attributes: map[string]string{"A": strings.Repeat("a", 256)}}, `attributes: column "A": attribute name longer than 255 characters`},
		{Config{Attributes: map[string]string{"_cq_sync_time": "t"}}, `attributes: column "_cq_sync_time" is an internal column`},
		{Config{Attributes: map[string]string{ColumnRejected: "t"}}, `attributes: column "_brazesync_rejected" is an internal column`},
		{Config{UserKey: "user_alias", AliasLabel: "c\x00rm"}, `alias_label: holds a control character`},
		{Config{UserKey: "user_alias", AliasLabel: "c\xffrm"}, `alias_label: is not valid UTF-8`},
	}
	for _, tc := range cases {
		c := tc.cfg
		c.SetDefaults()
		err := c.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	c := Config{}
	c.SetDefaults()
	if c.UserKey != "external_id" || c.Nulls != "skip" || c.LongStrings != "reject" {
		t.Errorf("defaults: %+v", c)
	}
}

// TestMappingResolution checks the precedence rules and the Columns report.
func TestMappingResolution(t *testing.T) {
	type col struct {
		name string
		tags []string
	}
	cases := []struct {
		name    string
		cols    []col
		cfg     Config
		key     string
		attrs   []string
		columns []ColumnMapping // nil: don't check
		err     string
	}{
		{name: "tag key and attributes",
			cols: []col{{"id", []string{"braze_id"}}, {"fn", []string{"braze[first_name]"}}, {"x", nil}, {"_cq_id", []string{"braze_id"}}},
			key:  "id", attrs: []string{"first_name"},
			columns: []ColumnMapping{
				{Column: "id", Attribute: "external_id", Source: SourceTag, Key: true},
				{Column: "fn", Attribute: "first_name", Source: SourceTag},
				{Column: "x", Ignored: "no braze tag"},
				{Column: "_cq_id", Ignored: "_cq_ internal column"}}},
		{name: "key by name, case-insensitive; braze[attr] column names",
			cols: []col{{"braze[ltv]", nil}, {"EXTERNAL_ID", nil}, {"braze[first_name]", nil}},
			key:  "EXTERNAL_ID", attrs: []string{"ltv", "first_name"},
			columns: []ColumnMapping{
				{Column: "braze[ltv]", Attribute: "ltv", Source: SourceName},
				{Column: "EXTERNAL_ID", Attribute: "external_id", Source: SourceKey, Key: true},
				{Column: "braze[first_name]", Attribute: "first_name", Source: SourceName}}},
		{name: "spec beats tags and names",
			cols: []col{{"id", []string{"braze_id"}}, {"USER_ID", nil}, {"FN", []string{"braze[last_name]"}}, {"other", []string{"braze[first_name]"}}, {"braze[first_name]", nil}},
			cfg:  Config{KeyColumn: "user_id", Attributes: map[string]string{"FN": "first_name"}},
			key:  "USER_ID", attrs: []string{"first_name"},
			columns: []ColumnMapping{
				{Column: "id", Ignored: "no braze tag"},
				{Column: "USER_ID", Attribute: "external_id", Source: SourceSpec, Key: true},
				{Column: "FN", Attribute: "first_name", Source: SourceSpec},
				{Column: "other", Attribute: "first_name", Source: SourceTag, Ignored: `attribute "first_name" already mapped from column "FN" by spec`},
				{Column: "braze[first_name]", Attribute: "first_name", Source: SourceName, Ignored: `attribute "first_name" already mapped from column "FN" by spec`}}},
		{name: "tag beats name for an attribute",
			cols: []col{{"id", []string{"braze_id"}}, {"braze[a]", nil}, {"t", []string{"braze[a]"}}},
			key:  "id", attrs: []string{"a"}},
		{name: "one column, several attributes; key column also an attribute",
			cols: []col{{"id", []string{"braze_id", "braze[uid]"}}, {"n", []string{"braze[a]", "braze[b]", "braze[a]", "xbraze_idx", "other"}}},
			key:  "id", attrs: []string{"uid", "a", "b"}},
		{name: "tagged key beats key by name",
			cols: []col{{"external_id", nil}, {"k", []string{"braze_id"}}}, key: "k"},
		{name: "alias key by name",
			cols: []col{{"Alias_Name", nil}}, cfg: Config{UserKey: "user_alias", AliasLabel: "L"}, key: "Alias_Name"},
		{name: "email key by name", cols: []col{{"email", nil}}, cfg: Config{UserKey: "email"}, key: "email"},
		{name: "two tagged keys", cols: []col{{"a", []string{"braze_id"}}, {"b", []string{"braze_id"}}},
			err: `two key columns: "a" and "b" are both tagged braze_id`},
		{name: "two named keys", cols: []col{{"external_id", nil}, {"EXTERNAL_ID", nil}},
			err: `two key columns: "external_id" and "EXTERNAL_ID" both match user_key external_id`},
		{name: "no key", cols: []col{{"a", nil}, {"_cq_id", nil}},
			err: "no key column: set key_column, tag a column braze_id, or name a column external_id"},
		{name: "uppercase tag does not match", cols: []col{{"a", []string{"BRAZE_ID"}}}, err: "no key column"},
		{name: "key_column missing", cols: []col{{"a", nil}}, cfg: Config{KeyColumn: "b"},
			err: `key_column: column "b" not found in the table`},
		{name: "attributes column missing", cols: []col{{"id", []string{"braze_id"}}}, cfg: Config{Attributes: map[string]string{"nope": "x"}},
			err: `attributes: column "nope" not found in the table`},
		{name: "two tagged columns for one attribute", cols: []col{{"id", []string{"braze_id"}}, {"a", []string{"braze[x]"}}, {"b", []string{"braze[x]"}}},
			err: `two columns for attribute "x": "a" and "b"`},
		{name: "two spec columns for one attribute", cols: []col{{"id", []string{"braze_id"}}, {"a", nil}, {"b", nil}},
			cfg: Config{Attributes: map[string]string{"a": "x", "b": "x"}}, err: `two columns for attribute "x": "a" and "b"`},
		{name: "two named columns for one attribute", cols: []col{{"id", []string{"braze_id"}}, {"braze[x]", nil}, {"braze[x]", nil}},
			err: `two columns for attribute "x": "braze[x]" and "braze[x]"`},
		{name: "empty attribute tag", cols: []col{{"id", []string{"braze_id"}}, {"a", []string{"braze[]"}}},
			err: `column "a": attribute name is empty`},
		{name: "dollar attribute", cols: []col{{"id", []string{"braze_id"}}, {"a", []string{"braze[$x]"}}},
			err: `column "a": attribute name "$x" starts with '$'`},
		{name: "reserved attribute", cols: []col{{"id", []string{"braze_id"}}, {"a", []string{"braze[external_id]"}}},
			err: `column "a": attribute "external_id" is reserved`},
		{name: "attribute equal to email key", cols: []col{{"email", nil}, {"a", []string{"braze[email]"}}}, cfg: Config{UserKey: "email"},
			err: `column "a": attribute "email" is reserved`},
		{name: "bad config", cols: []col{{"a", nil}}, cfg: Config{UserKey: "x"}, err: "invalid mapping config: user_key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var fs []arrow.Field
			for _, c := range tc.cols {
				fs = append(fs, field(c.name, str, c.tags...))
			}
			m, err := NewMapping(arrow.NewSchema(fs, nil), tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.KeyColumn() != tc.key {
				t.Errorf("key = %q, want %q", m.KeyColumn(), tc.key)
			}
			if tc.attrs != nil && !reflect.DeepEqual(m.Attributes(), tc.attrs) {
				t.Errorf("attributes = %q, want %q", m.Attributes(), tc.attrs)
			}
			if tc.columns != nil && !reflect.DeepEqual(m.Columns(), tc.columns) {
				t.Errorf("columns =\n%+v\nwant\n%+v", m.Columns(), tc.columns)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{field("id", str, "braze_id"), field("a", str, "braze[a]")}, nil)
	rec := recordFromJSON(t, sc, `[{"id":"u1","a":"x"},{"id":null,"a":"x"},{"id":"","a":"x"},{"id":" \t","a":"x"},{"id":"\u00a0","a":"x"},{"id":" u2 ","a":null},{"id":"ü\"","a":"x"}]`)
	got := encodeAll(t, mustMapping(t, sc, Config{}), rec)
	want := []rowOut{
		{JSON: `"external_id":"u1","a":"x"`, Key: "u1"},
		{Skip: "null_key"},
		{Skip: "empty_key"},
		{Skip: "blank_key", Key: " \t"},
		{Skip: "blank_key", Key: "\u00a0"},
		{JSON: `"external_id":" u2 "`, Key: " u2 "},
		{JSON: `"external_id":"ü\"","a":"x"`, Key: `ü"`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}

	t.Run("integer and uuid keys", func(t *testing.T) {
		for _, tc := range []struct {
			dt   arrow.DataType
			val  string
			want string
		}{
			{arrow.PrimitiveTypes.Int64, `-42`, `"external_id":"-42"`},
			{arrow.PrimitiveTypes.Int32, `7`, `"external_id":"7"`},
			{arrow.PrimitiveTypes.Uint64, `"18446744073709551615"`, `"external_id":"18446744073709551615"`},
			{arrow.PrimitiveTypes.Uint8, `255`, `"external_id":"255"`},
			{arrow.BinaryTypes.LargeString, `"L"`, `"external_id":"L"`},
		} {
			sc := arrow.NewSchema([]arrow.Field{field("external_id", tc.dt)}, nil)
			rec := recordFromJSON(t, sc, `[{"external_id":`+tc.val+`}]`)
			if got := encodeAll(t, mustMapping(t, sc, Config{}), rec)[0].JSON; got != tc.want {
				t.Errorf("%s: got %s want %s", tc.dt, got, tc.want)
			}
		}
	})

	t.Run("unsupported key type", func(t *testing.T) {
		sc := arrow.NewSchema([]arrow.Field{field("external_id", arrow.PrimitiveTypes.Float64)}, nil)
		if _, err := NewMapping(sc, Config{}); err == nil || !strings.Contains(err.Error(), `key column "external_id": unsupported key type float64`) {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("user alias", func(t *testing.T) {
		sc := arrow.NewSchema([]arrow.Field{field("alias_name", str), field("braze[a]", arrow.PrimitiveTypes.Int64)}, nil)
		rec := recordFromJSON(t, sc, `[{"alias_name":"x\"y","braze[a]":1}]`)
		got := encodeAll(t, mustMapping(t, sc, Config{UserKey: "user_alias", AliasLabel: `crm "id"`}), rec)
		if want := `"user_alias":{"alias_name":"x\"y","alias_label":"crm \"id\""},"a":1`; got[0].JSON != want || got[0].Key != `x"y` {
			t.Errorf("got %+v want %s", got[0], want)
		}
	})
}

func TestRejectDoesNotLeakValues(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{field("id", str, "braze_id"), field("secret", str, "braze[s]"), field("EMAIL", str, "braze[email]")}, nil)
	rec := recordFromJSON(t, sc, `[{"id":"u1","secret":"hunter2","EMAIL":"not-an-email"}]`)
	enc := mustMapping(t, sc, Config{}).NewEncoder()
	if err := enc.Reset(rec); err != nil {
		t.Fatal(err)
	}
	_, res := enc.AppendRow(nil, 0)
	if res.Reject == nil {
		t.Fatal("not rejected")
	}
	msg := res.Reject.Error()
	if msg != `row 0: column "EMAIL" (attribute "email"): invalid email address` {
		t.Errorf("Error() = %q", msg)
	}
	if strings.Contains(msg, "hunter2") || strings.Contains(msg, "not-an-email") || strings.Contains(msg, "u1") {
		t.Errorf("error leaks values: %q", msg)
	}
}

func TestResetChecksSchema(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{field("id", str, "braze_id"), field("a", str, "braze[a]")}, nil)
	m := mustMapping(t, sc, Config{})
	enc := m.NewEncoder()
	other := arrow.NewSchema([]arrow.Field{field("id", str), field("a", arrow.PrimitiveTypes.Int64)}, nil)
	if err := enc.Reset(recordFromJSON(t, other, `[{"id":"x","a":1}]`)); err == nil || !strings.Contains(err.Error(), `column 1 is "a" int64, mapping has "a" utf8`) {
		t.Errorf("Reset(other) = %v", err)
	}
	short := arrow.NewSchema([]arrow.Field{field("id", str)}, nil)
	if err := enc.Reset(recordFromJSON(t, short, `[{"id":"x"}]`)); err == nil {
		t.Error("Reset(short) succeeded")
	}
	// Same names and types but different metadata bind fine.
	plain := arrow.NewSchema([]arrow.Field{field("id", str), field("a", str)}, nil)
	if err := enc.Reset(recordFromJSON(t, plain, `[{"id":"x","a":"y"}]`)); err != nil {
		t.Errorf("Reset(plain) = %v", err)
	}
}

// TestSlicedRecord checks that array offsets are honoured (records from
// IPC or slicing do not start at 0).
func TestSlicedRecord(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		field("id", str, "braze_id"), field("n", arrow.PrimitiveTypes.Int64, "braze[n]"),
		field("b", arrow.FixedWidthTypes.Boolean, "braze[b]"), field("l", arrow.ListOf(str), "braze[l]"),
		field("s", arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), "braze[s]"),
	}, nil)
	rec := recordFromJSON(t, sc, `[{"id":"a","n":1,"b":true,"l":["p"],"s":{"x":1}},{"id":"b","n":null,"b":false,"l":["q","q"],"s":{"x":2}},{"id":"c","n":3,"b":null,"l":null,"s":null}]`)
	sl := rec.NewSlice(1, 3)
	defer sl.Release()
	got := encodeAll(t, mustMapping(t, sc, Config{}), sl)
	want := []rowOut{
		{JSON: `"external_id":"b","b":false,"l":["q"],"s":{"x":2}`, Key: "b"},
		{JSON: `"external_id":"c","n":3`, Key: "c"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
}

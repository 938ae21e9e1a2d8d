package schema

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cloudquery/plugin-sdk/v4/types"
)

var (
	tsUTC   = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}
	int64T  = arrow.PrimitiveTypes.Int64
	dec12_2 = &arrow.Decimal128Type{Precision: 12, Scale: 2}
	syncAt  = time.Date(2024, 6, 1, 8, 30, 0, 0, time.UTC)
)

// eventOut is the outcome of one event row, flattened for comparisons.
type eventOut struct {
	JSON, Reject, Skip string
	ID                 EventID
	TimeFromRow        bool
	Properties         int
}

func encodeEvents(t *testing.T, m *EventMapping, rec arrow.Record) []eventOut {
	t.Helper()
	enc := m.NewEncoder(syncAt)
	if err := enc.Reset(rec); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	var out []eventOut
	for i := 0; i < int(rec.NumRows()); i++ {
		got, res := enc.AppendRow([]byte("PREFIX"), i)
		o := eventOut{ID: res.ID, TimeFromRow: res.TimeFromRow, Properties: res.Properties}
		switch {
		case res.Skip != SkipNone:
			o.Skip = res.Skip.String()
		case res.Reject != nil:
			o.Reject = res.Reject.Column + "/" + res.Reject.Attribute + ": " + res.Reject.Reason
		default:
			o.JSON = string(got[len("PREFIX"):])
		}
		if (o.Skip != "" || o.Reject != "") && string(got) != "PREFIX" {
			t.Fatalf("row %d: dst changed on skip/reject: %q", i, got)
		}
		out = append(out, o)
	}
	return out
}

func mustEventMapping(t *testing.T, sc *arrow.Schema, ev EventConfig) *EventMapping {
	t.Helper()
	m, err := NewEventMapping(sc, Config{}, ev)
	if err != nil {
		t.Fatalf("NewEventMapping: %v", err)
	}
	return m
}

// TestEventObjects checks the exact members of events built from settings, tags and a JSON
// properties column, and which rows are rejected with which column and reason.
func TestEventObjects(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		field("EXTERNAL_ID", str),
		field("EVENT", str),
		field("AT", tsUTC),
		field("PLAN", str, "braze[plan]"),
		field("SEATS", int64T, "braze[seats]"),
		field("TAGS", arrow.ListOf(str), "braze[tags]"),
		field("PROPS", types.NewJSONType()),
		field("NOTE", str),
	}, nil)
	rec := recordFromJSON(t, sc, `[
		{"EXTERNAL_ID":"u1","EVENT":"completed_onboarding","AT":"2024-05-01T10:00:00.250Z","PLAN":"gold","SEATS":3,"TAGS":["a","a","b"],"PROPS":{"Signed Up Via":"web","n":{"x":1,"y":null}},"NOTE":"n"},
		{"EXTERNAL_ID":"u2","EVENT":"churn_risk_raised","AT":null,"PLAN":null,"SEATS":null,"TAGS":null,"PROPS":null},
		{"EXTERNAL_ID":"u3","EVENT":null,"AT":"2024-05-01T10:00:00Z"},
		{"EXTERNAL_ID":"u4","EVENT":"e","PROPS":{"$bad":1}},
		{"EXTERNAL_ID":"u5","EVENT":"e","PROPS":{"time":1}},
		{"EXTERNAL_ID":"u6","EVENT":"e","PLAN":"gold","PROPS":{"plan":"silver"}},
		{"EXTERNAL_ID":"u7","EVENT":"e","PROPS":[1,2]},
		{"EXTERNAL_ID":null,"EVENT":"e"},
		{"EXTERNAL_ID":"u9","EVENT":"`+strings.Repeat("x", 256)+`"},
		{"EXTERNAL_ID":"u10","EVENT":"e","PLAN":"`+strings.Repeat("p", 256)+`"}
	]`)
	m := mustEventMapping(t, sc, EventConfig{Kind: KindEvents, NameColumn: "EVENT", TimeColumn: "AT",
		PropertiesColumn: "PROPS", AppID: "app-1"})
	got := encodeEvents(t, m, rec)
	want := []eventOut{
		{JSON: `"external_id":"u1","app_id":"app-1","name":"completed_onboarding","time":"2024-05-01T10:00:00.250Z",` +
			`"properties":{"plan":"gold","seats":3,"tags":["a","a","b"],"Signed Up Via":"web","n":{"x":1}}`, TimeFromRow: true, Properties: 5},
		{JSON: `"external_id":"u2","app_id":"app-1","name":"churn_risk_raised","time":"2024-06-01T08:30:00Z"`},
		{Reject: "EVENT/name: " + reasonNameMissing},
		{Reject: "PROPS/properties: " + reasonPropertyName},
		{Reject: "PROPS/properties: " + reasonPropertyName},
		{Reject: "PROPS/properties: " + reasonPropertyTwice},
		{Reject: "PROPS/properties: " + reasonPropsNotObject},
		{Skip: "null_key"},
		{Reject: "EVENT/name: " + reasonTooLong},
		{Reject: "PLAN/properties.plan: " + reasonTooLong},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		g.ID = EventID{}
		if g != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, want[i])
		}
	}
}

// TestPurchaseObjects covers the purchase members and Braze's rules for them: required
// product_id, currency (ISO 4217, sent upper-case) and price (exact decimal), quantity 1-100.
func TestPurchaseObjects(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		field("CUSTOMER", str, TagKey),
		field("LINE_ID", int64T, TagEventID),
		field("SKU", str, TagProductID),
		field("CUR", str, TagCurrency),
		field("PRICE", dec12_2, TagPrice),
		field("QTY", int64T, TagQuantity),
		field("ORDERED_AT", arrow.FixedWidthTypes.Date32, TagTime),
		field("COUPON", str, "braze[coupon]"),
	}, nil)
	rec := recordFromJSON(t, sc, `[
		{"CUSTOMER":"c1","LINE_ID":1,"SKU":"SKU-1","CUR":"usd","PRICE":"12.50","QTY":2,"ORDERED_AT":"2024-05-02","COUPON":"SPRING"},
		{"CUSTOMER":"c2","LINE_ID":2,"SKU":"SKU-2","CUR":"EUR","PRICE":"-1.00","QTY":null,"ORDERED_AT":null},
		{"CUSTOMER":"c3","LINE_ID":3,"SKU":"SKU-3","CUR":"dollars","PRICE":"1.00","QTY":1},
		{"CUSTOMER":"c4","LINE_ID":4,"SKU":"SKU-4","CUR":"USD","PRICE":"1.00","QTY":0},
		{"CUSTOMER":"c5","LINE_ID":5,"SKU":"SKU-5","CUR":"USD","PRICE":"1.00","QTY":101},
		{"CUSTOMER":"c6","LINE_ID":6,"SKU":"SKU-6","CUR":"USD","PRICE":null,"QTY":1},
		{"CUSTOMER":"c7","LINE_ID":7,"SKU":"","CUR":"USD","PRICE":"1.00"},
		{"CUSTOMER":"c8","LINE_ID":null,"SKU":"SKU-8","CUR":"USD","PRICE":"1.00"},
		{"CUSTOMER":"c9","LINE_ID":9,"SKU":"SKU-9","CUR":null,"PRICE":"1.00"}
	]`)
	m := mustEventMapping(t, sc, EventConfig{})
	if m.Kind() != KindPurchases || !m.HasIDColumn() {
		t.Fatalf("kind %s, id column %v", m.Kind(), m.HasIDColumn())
	}
	got := encodeEvents(t, m, rec)
	want := []string{
		`"external_id":"c1","product_id":"SKU-1","currency":"USD","price":12.50,"quantity":2,"time":"2024-05-02T00:00:00Z","properties":{"coupon":"SPRING"}`,
		`"external_id":"c2","product_id":"SKU-2","currency":"EUR","price":-1.00,"time":"2024-06-01T08:30:00Z"`,
		"CUR/currency: " + reasonCurrency,
		"QTY/quantity: " + reasonQuantity,
		"QTY/quantity: " + reasonQuantity,
		"PRICE/price: " + reasonPriceMissing,
		"SKU/product_id: " + reasonProductMissing,
		"LINE_ID/identity: " + reasonIDMissing,
		"CUR/currency: " + reasonCurrencyMissing,
	}
	for i, w := range want {
		if g := got[i].JSON + got[i].Reject; g != w {
			t.Errorf("row %d:\n got %s\nwant %s", i, g, w)
		}
	}
	// A declared id: the identity is the id's, whatever else the row holds.
	var zero EventID
	if got[0].ID == zero || got[0].ID == got[1].ID {
		t.Errorf("declared ids: %v %v", got[0].ID, got[1].ID)
	}
}

// TestEventIdentity checks the one definition of an event's identity: declared ids are compared
// as text, content identities change with any member, and a row without a time keeps its identity
// from one sync to the next although the time it is sent with changes.
func TestEventIdentity(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{field("external_id", str), field("AT", tsUTC), field("P", str, "braze[p]")}, nil)
	rec := recordFromJSON(t, sc, `[
		{"external_id":"u1","AT":"2024-05-01T10:00:00Z","P":"a"},
		{"external_id":"u1","AT":"2024-05-01T10:00:00Z","P":"a"},
		{"external_id":"u1","AT":"2024-05-01T10:00:00Z","P":"b"},
		{"external_id":"u1","AT":"2024-05-01T10:00:01Z","P":"a"},
		{"external_id":"u2","AT":"2024-05-01T10:00:00Z","P":"a"},
		{"external_id":"u1","AT":null,"P":"a"}
	]`)
	m := mustEventMapping(t, sc, EventConfig{Kind: KindEvents, Name: "n", TimeColumn: "AT"})
	ids := func(at time.Time) []EventID {
		enc := m.NewEncoder(at)
		if err := enc.Reset(rec); err != nil {
			t.Fatal(err)
		}
		var out []EventID
		for i := 0; i < int(rec.NumRows()); i++ {
			_, res := enc.AppendRow(nil, i)
			out = append(out, res.ID)
		}
		return out
	}
	a := ids(syncAt)
	if a[0] != a[1] {
		t.Error("equal rows have different identities")
	}
	for i := 2; i < 6; i++ {
		if a[i] == a[0] {
			t.Errorf("row %d differs from row 0 but has its identity", i)
		}
	}
	if b := ids(syncAt.Add(24 * time.Hour)); b[5] != a[5] || b[0] != a[0] {
		t.Error("identities change with the sync's start")
	}

	// A declared id is compared as text: an integer 7 and a string "7" are one event.
	for _, dt := range []arrow.DataType{int64T, str} {
		sc := arrow.NewSchema([]arrow.Field{field("external_id", str), field("ID", dt, TagEventID)}, nil)
		val := `7`
		if dt == str {
			val = `"7"`
		}
		rec := recordFromJSON(t, sc, `[{"external_id":"u1","ID":`+val+`}]`)
		got := encodeEvents(t, mustEventMapping(t, sc, EventConfig{Kind: KindEvents, Name: "n"}), rec)
		if want := (&EventEncoder{digest: sha256.New()}).declaredID([]byte("7")); got[0].ID != want {
			t.Errorf("%s id 7: identity %v, want %v", dt, got[0].ID, want)
		}
	}
}

// TestTableKind covers how a table's kind is decided: the setting, else the tags (or names).
func TestTableKind(t *testing.T) {
	cases := []struct {
		name   string
		fields []arrow.Field
		cfg    EventConfig
		want   string // kind, or "error: ..." substring
	}{
		{"no tags", []arrow.Field{field("external_id", str), field("x", str, "braze[x]")}, EventConfig{}, KindAttributes},
		{"event name tag", []arrow.Field{field("external_id", str), field("E", str, TagEventName)}, EventConfig{}, KindEvents},
		{"constant name tag", []arrow.Field{field("external_id", str), field("T", tsUTC, "braze_event[signed_up]")}, EventConfig{}, KindEvents},
		{"named like the tag", []arrow.Field{field("external_id", str), field(TagProductID, str)}, EventConfig{}, KindPurchases},
		{"setting wins", []arrow.Field{field("external_id", str), field("E", str, TagEventName)}, EventConfig{Kind: KindAttributes}, KindAttributes},
		{"both", []arrow.Field{field("E", str, TagEventName), field("P", str, TagProductID)}, EventConfig{}, "error: both events and purchases"},
		{"unanchored", []arrow.Field{field("E", str, "xbraze_event"), field("P", str, "BRAZE_PRODUCT_ID")}, EventConfig{}, KindAttributes},
	}
	for _, tc := range cases {
		got, err := TableKind(arrow.NewSchema(tc.fields, nil), tc.cfg)
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tc.want && !(strings.HasPrefix(tc.want, "error: ") && strings.Contains(got, strings.TrimPrefix(tc.want, "error: "))) {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestEventMappingErrors: every problem known from the schema fails before anything is sent,
// naming the column or the setting.
func TestEventMappingErrors(t *testing.T) {
	key := field("external_id", str)
	cases := []struct {
		name   string
		fields []arrow.Field
		cfg    EventConfig
		want   string
	}{
		{"no name", []arrow.Field{key, field("T", tsUTC, TagTime)}, EventConfig{Kind: KindEvents}, "no event name"},
		{"purchase needs price", []arrow.Field{key, field("S", str, TagProductID)}, EventConfig{Currency: "USD"},
			"purchases need price"},
		{"missing column", []arrow.Field{key}, EventConfig{Kind: KindEvents, Name: "n", TimeColumn: "WHEN"}, `time_column: column "WHEN" not found`},
		{"time is a string", []arrow.Field{key, field("T", str)}, EventConfig{Kind: KindEvents, Name: "n", TimeColumn: "T"},
			`column "T" (time): type utf8 is not a timestamp or date`},
		{"quantity is a float", []arrow.Field{key, field("S", str, TagProductID), field("P", int64T, TagPrice), field("Q", arrow.PrimitiveTypes.Float64, TagQuantity)},
			EventConfig{Currency: "USD"}, `column "Q" (quantity): type float64 is not an integer`},
		{"properties column not JSON", []arrow.Field{key, field("J", str)}, EventConfig{Kind: KindEvents, Name: "n", PropertiesColumn: "J"},
			`column "J" (properties): type utf8 is not JSON`},
		{"two time columns", []arrow.Field{key, field("A", tsUTC, TagTime), field("B", tsUTC, TagTime)}, EventConfig{Kind: KindEvents, Name: "n"},
			`two time columns: "A" and "B" are both tagged braze_time`},
		{"two names", []arrow.Field{key, field("A", str, "braze_event[x]"), field("B", str, "braze_event[y]")}, EventConfig{},
			"two event names"},
		{"constant and column", []arrow.Field{key, field("A", str, "braze_event[x]"), field("B", str, TagEventName)}, EventConfig{},
			"both a constant event name"},
		{"reserved property tag", []arrow.Field{key, field("A", str, "braze[time]")}, EventConfig{Kind: KindEvents, Name: "n"},
			`column "A": property name "time" is reserved`},
		{"$ property setting", []arrow.Field{key, field("A", str)}, EventConfig{Kind: KindEvents, Name: "n", Properties: map[string]string{"A": "$a"}},
			`properties: column "A": property name "$a" starts with '$'`},
		{"nested date", []arrow.Field{key, field("S", arrow.StructOf(arrow.Field{Name: "d", Type: tsUTC}), "braze[s]")},
			EventConfig{Kind: KindEvents, Name: "n"}, "holds a date inside a nested object"},
		{"binary property", []arrow.Field{key, field("B", arrow.BinaryTypes.Binary, "braze[b]")}, EventConfig{Kind: KindEvents, Name: "n"},
			`column "B" (property "b"): unsupported type binary`},
		{"no key", []arrow.Field{field("E", str, TagEventName)}, EventConfig{}, "no key column"},
		{"purchase setting on events", []arrow.Field{key}, EventConfig{Kind: KindEvents, Name: "n", Currency: "USD"},
			"currency: only for kind purchases"},
		{"bad constant currency", []arrow.Field{key}, EventConfig{Kind: KindPurchases, Currency: "XXX"}, `currency: "XXX" is not an ISO 4217`},
	}
	for _, tc := range cases {
		_, err := NewEventMapping(arrow.NewSchema(tc.fields, nil), Config{}, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// TestEventConfigValidate checks the settings alone, each error naming the setting.
func TestEventConfigValidate(t *testing.T) {
	cases := []struct {
		cfg  EventConfig
		want string // "" valid
	}{
		{EventConfig{}, ""},
		{EventConfig{Kind: KindEvents, Name: "signed_up", TimeColumn: "T", Properties: map[string]string{"A": "a b"}}, ""},
		{EventConfig{Kind: "event"}, `kind: "event" is not one of`},
		{EventConfig{Kind: KindEvents, Name: "n", NameColumn: "N"}, "name, name_column: set one of them, not both"},
		{EventConfig{Kind: KindAttributes, TimeColumn: "T"}, "time_column: only for kind events or purchases"},
		{EventConfig{Kind: KindAttributes, KeyColumn: "U"}, "key_column: only for kind events or purchases"},
		{EventConfig{Kind: KindPurchases, Name: "n"}, "name, name_column: only for kind events"},
		{EventConfig{Kind: KindEvents, Name: strings.Repeat("n", 256)}, "name: longer than 255 characters"},
		{EventConfig{Kind: KindEvents, Properties: map[string]string{"A": "event_name"}}, `property name "event_name" is reserved`},
		{EventConfig{Kind: KindEvents, TimeColumn: "_cq_sync_time"}, "time_column: \"_cq_sync_time\" is an internal column"},
		{EventConfig{Kind: KindPurchases, Currency: "usd"}, ""},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: unexpected %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// TestEventColumnsDescribed: brazesync check shows what every column of an event table does.
func TestEventColumnsDescribed(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{field("external_id", str), field("E", str, TagEventName),
		field("braze_time", tsUTC), field("P", str, "braze[p]"), field("X", str), field("_cq_id", str)}, nil)
	m := mustEventMapping(t, sc, EventConfig{})
	var got []string
	for _, c := range m.Columns() {
		got = append(got, c.Column+"="+c.Attribute+"/"+c.Source+c.Ignored)
	}
	want := "external_id=external_id/key E=name/tag braze_time=time/name P=properties.p/tag X=/no braze tag _cq_id=/_cq_ internal column"
	if strings.Join(got, " ") != want {
		t.Errorf("columns:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

// TestEventQuantityTypes reads quantities from every integer width and from a scale-0 decimal.
func TestEventQuantityTypes(t *testing.T) {
	for _, dt := range []arrow.DataType{arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Uint16, int64T,
		&arrow.Decimal128Type{Precision: 38, Scale: 0}} {
		sc := arrow.NewSchema([]arrow.Field{field("external_id", str), field("Q", dt, TagQuantity)}, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
		q := `[5, 0]`
		if err := b.Field(1).UnmarshalJSON([]byte(q)); err != nil {
			t.Fatal(err)
		}
		rec := b.NewRecord()
		b.Release()
		m := mustEventMapping(t, sc, EventConfig{Kind: KindPurchases, ProductIDColumn: "external_id", Currency: "USD",
			PriceColumn: "Q"})
		got := encodeEvents(t, m, rec)
		rec.Release()
		if !strings.Contains(got[0].JSON, `"quantity":5`) || got[1].Reject != "Q/quantity: "+reasonQuantity {
			t.Errorf("%s: %+v", dt, got)
		}
	}
}

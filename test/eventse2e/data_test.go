package eventse2e

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/decimal128"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/schema"
)

// eventNames are the events of the activity table.
var eventNames = []string{"completed_onboarding", "churn_risk_raised", "viewed_pricing"}

// eventRow is one row of the activity table. seq is unique and sent as a property, so each landed
// event can be matched to its row.
type eventRow struct {
	user, name string
	at         time.Time
	seq        int64
	plan       *string // nil: NULL (the property is left out)
	score      float64
	tags       []string
}

// genEvents makes n rows for the given number of users, at millisecond times over the 10 days
// before now (inside the default 30-day window).
func genEvents(n, users int, now time.Time) []eventRow {
	plans := []string{"free", "pro", "enterprise"}
	rows := make([]eventRow, n)
	for i := range rows {
		r := eventRow{user: fmt.Sprintf("u%05d", (i*7919)%users), name: eventNames[i%len(eventNames)],
			at:  now.Add(-time.Duration((int64(i)*104729)%(10*24*3600*1000)) * time.Millisecond).Truncate(time.Millisecond),
			seq: int64(i), score: float64((i*31)%1000) / 8, tags: []string{"t" + fmt.Sprint(i%5), "t" + fmt.Sprint(i%3)}}
		if i%4 != 0 {
			p := plans[i%3]
			r.plan = &p
		}
		rows[i] = r
	}
	return rows
}

// eventsSchema carries the roles as Looker-style tags, so the table is events without settings.
func eventsSchema() *arrow.Schema {
	f := func(name string, t arrow.DataType, tags ...string) arrow.Field {
		return schema.FieldWithTags(arrow.Field{Name: name, Type: t, Nullable: true}, tags...)
	}
	return arrow.NewSchema([]arrow.Field{
		f("USER_ID", arrow.BinaryTypes.String, schema.TagKey),
		f("EVENT", arrow.BinaryTypes.String, schema.TagEventName),
		f("AT", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, schema.TagTime),
		f("SEQ", arrow.PrimitiveTypes.Int64, "braze[seq]"),
		f("PLAN", arrow.BinaryTypes.String, "braze[plan]"),
		f("SCORE", arrow.PrimitiveTypes.Float64, "braze[score]"),
		f("TAGS", arrow.ListOf(arrow.BinaryTypes.String), "braze[tags]"),
	}, nil)
}

func writeEvents(t *testing.T, path string, rows []eventRow) {
	t.Helper()
	writeParquet(t, path, eventsSchema(), len(rows), func(b *array.RecordBuilder, i int) {
		r := rows[i]
		b.Field(0).(*array.StringBuilder).Append(r.user)
		b.Field(1).(*array.StringBuilder).Append(r.name)
		b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(r.at.UnixMilli()))
		b.Field(3).(*array.Int64Builder).Append(r.seq)
		if r.plan == nil {
			b.Field(4).AppendNull()
		} else {
			b.Field(4).(*array.StringBuilder).Append(*r.plan)
		}
		b.Field(5).(*array.Float64Builder).Append(r.score)
		lb := b.Field(6).(*array.ListBuilder)
		lb.Append(true)
		for _, tag := range r.tags {
			lb.ValueBuilder().(*array.StringBuilder).Append(tag)
		}
	})
}

// purchaseRow is one order line. line is its identity (id_column) and is also sent as a property.
type purchaseRow struct {
	customer, sku, currency string
	line, cents             int64
	qty                     *int64 // nil: NULL (Braze records 1)
	at                      time.Time
	coupon                  *string
}

func genPurchases(n, users int, now time.Time) []purchaseRow {
	currencies := []string{"USD", "EUR", "gbp", "JPY"}
	rows := make([]purchaseRow, n)
	for i := range rows {
		r := purchaseRow{customer: fmt.Sprintf("u%05d", (i*104729)%users), sku: fmt.Sprintf("SKU-%03d", i%211),
			currency: currencies[i%len(currencies)], line: int64(1_000_000 + i), cents: int64(99 + (i*7907)%50000),
			at: now.Add(-time.Duration((int64(i)*7919)%(5*24*3600*1000)) * time.Millisecond).Truncate(time.Millisecond)}
		if i%9 != 0 {
			q := int64(1 + i%100)
			r.qty = &q
		}
		if i%3 == 0 {
			c := "SPRING" + fmt.Sprint(i%7)
			r.coupon = &c
		}
		rows[i] = r
	}
	return rows
}

// purchasesSchema has plain names: the table's settings in the spec say what each column is.
func purchasesSchema() *arrow.Schema {
	f := func(name string, t arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: t, Nullable: true}
	}
	return arrow.NewSchema([]arrow.Field{
		f("CUSTOMER", arrow.BinaryTypes.String), f("LINE_ID", arrow.PrimitiveTypes.Int64), f("SKU", arrow.BinaryTypes.String),
		f("CURRENCY", arrow.BinaryTypes.String), f("PRICE", &arrow.Decimal128Type{Precision: 12, Scale: 2}),
		f("QTY", arrow.PrimitiveTypes.Int64), f("ORDERED_AT", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}),
		f("COUPON", arrow.BinaryTypes.String),
	}, nil)
}

// purchasesTable is the spec's settings for the purchases table.
var purchasesTable = []string{
	"tables:",
	"  purchases:",
	"    kind: purchases",
	"    key_column: CUSTOMER",
	"    id_column: LINE_ID",
	"    product_id_column: SKU",
	"    currency_column: CURRENCY",
	"    price_column: PRICE",
	"    quantity_column: QTY",
	"    time_column: ORDERED_AT",
	"    properties: {COUPON: coupon, LINE_ID: line_id}",
}

func writePurchases(t *testing.T, path string, rows []purchaseRow) {
	t.Helper()
	writeParquet(t, path, purchasesSchema(), len(rows), func(b *array.RecordBuilder, i int) {
		r := rows[i]
		b.Field(0).(*array.StringBuilder).Append(r.customer)
		b.Field(1).(*array.Int64Builder).Append(r.line)
		b.Field(2).(*array.StringBuilder).Append(r.sku)
		b.Field(3).(*array.StringBuilder).Append(r.currency)
		b.Field(4).(*array.Decimal128Builder).Append(decimal128.FromI64(r.cents))
		if r.qty == nil {
			b.Field(5).AppendNull()
		} else {
			b.Field(5).(*array.Int64Builder).Append(*r.qty)
		}
		b.Field(6).(*array.TimestampBuilder).Append(arrow.Timestamp(r.at.UnixMilli()))
		if r.coupon == nil {
			b.Field(7).AppendNull()
		} else {
			b.Field(7).(*array.StringBuilder).Append(*r.coupon)
		}
	})
}

// writeParquet writes n rows built by row, storing the Arrow schema so the tags survive.
func writeParquet(t *testing.T, path string, sc *arrow.Schema, n int, row func(b *array.RecordBuilder, i int)) {
	t.Helper()
	var buf bytes.Buffer // pqarrow's writer closes the writer it is given
	fw, err := pqarrow.NewFileWriter(sc, &buf, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(8192)),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < n; start += 5000 {
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		for i := start; i < min(n, start+5000); i++ {
			row(b, i)
		}
		rec := b.NewRecord()
		b.Release()
		err := fw.Write(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkEvent compares one landed event with its row, field by field; it returns "" when equal.
func checkEvent(ev brazeemu.RecordedEvent, r eventRow) string {
	p := ev.Properties
	switch {
	case ev.Owner.ExternalID != r.user:
		return fmt.Sprintf("user %q, want %q", ev.Owner.ExternalID, r.user)
	case ev.Name != r.name:
		return fmt.Sprintf("name %q, want %q", ev.Name, r.name)
	case !ev.Time.Equal(r.at):
		return fmt.Sprintf("time %s, want %s", ev.Time, r.at)
	case ev.AppID != "":
		return "an app_id the source does not hold"
	case !sameNumber(p["seq"], float64(r.seq)) || !sameNumber(p["score"], r.score):
		return fmt.Sprintf("seq/score %v/%v, want %v/%v", p["seq"], p["score"], r.seq, r.score)
	case r.plan == nil && p["plan"] != nil, r.plan != nil && p["plan"] != *r.plan:
		return fmt.Sprintf("plan %v, want %v", p["plan"], r.plan)
	case fmt.Sprint(p["tags"]) != fmt.Sprint(toAny(r.tags)):
		return fmt.Sprintf("tags %v, want %v", p["tags"], r.tags)
	case len(p) != 4-boolInt(r.plan == nil):
		return fmt.Sprintf("properties %v hold more than the row", p)
	}
	return ""
}

// checkPurchase compares one landed purchase with its row.
func checkPurchase(pu brazeemu.RecordedPurchase, r purchaseRow) string {
	qty := int64(1) // Braze's default for a purchase sent without quantity
	if r.qty != nil {
		qty = *r.qty
	}
	p := pu.Properties
	switch {
	case pu.Owner.ExternalID != r.customer:
		return fmt.Sprintf("user %q, want %q", pu.Owner.ExternalID, r.customer)
	case pu.ProductID != r.sku || pu.Quantity != qty || !pu.Time.Equal(r.at):
		return fmt.Sprintf("product/quantity/time %s/%d/%s, want %s/%d/%s", pu.ProductID, pu.Quantity, pu.Time, r.sku, qty, r.at)
	case pu.Currency != upper(r.currency):
		return fmt.Sprintf("currency %s, want %s", pu.Currency, r.currency)
	case math.Round(pu.Price*100) != float64(r.cents):
		return fmt.Sprintf("price %v, want %d cents", pu.Price, r.cents)
	case r.coupon == nil && p["coupon"] != nil, r.coupon != nil && p["coupon"] != *r.coupon:
		return fmt.Sprintf("coupon %v, want %v", p["coupon"], r.coupon)
	case len(p) != 2-boolInt(r.coupon == nil):
		return fmt.Sprintf("properties %v hold more than the row", p)
	}
	return ""
}

func sameNumber(v any, want float64) bool {
	switch n := v.(type) {
	case int64:
		return float64(n) == want
	case float64:
		return n == want
	}
	return false
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// seqOf reads an event's seq property (-1 when it has none).
func seqOf(ev brazeemu.RecordedEvent) int64 {
	switch n := ev.Properties["seq"].(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return -1
}

// lineOf reads a purchase's line_id property (-1 when it has none).
func lineOf(pu brazeemu.RecordedPurchase) int64 {
	if n, ok := pu.Properties["line_id"].(int64); ok {
		return n
	}
	return -1
}

// dataFiles writes the activity and purchases files into a new folder and returns it.
func dataFiles(t *testing.T, events []eventRow, purchases []purchaseRow) string {
	t.Helper()
	dir := t.TempDir()
	writeEvents(t, filepath.Join(dir, "activity.parquet"), events)
	writePurchases(t, filepath.Join(dir, "purchases.parquet"), purchases)
	return dir
}

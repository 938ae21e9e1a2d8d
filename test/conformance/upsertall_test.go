package conformance

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
)

// TestUpsertAllCarriedColumns ports the suite's testUpsertAll (plugin/testing_write_upsert.go
// @v4.40.1) to schema.TestTable without the columns the destination refuses, so both halves run:
// ten generated rows read back exactly, then the same keys upserted with every other column null
// read back as ten rows with those columns null (nulls: unset removes the attributes in Braze).
func TestUpsertAllCarriedColumns(t *testing.T) {
	const rowsPerRecord = 10
	ctx := context.Background()
	h := newHarness(t)
	p := newPlugin(t, h)

	table := cqschema.TestTable("cq_upsert_all_carried", dataOptions)
	var kept cqschema.ColumnList
	for _, c := range table.Columns {
		if carried(c.Type) {
			kept = append(kept, c)
		}
	}
	table.Columns = append(kept, cqschema.Column{Name: "name", Type: arrow.BinaryTypes.String, PrimaryKey: true})
	if err := p.WriteAll(ctx, []message.WriteMessage{&message.WriteMigrateTable{Table: table}}); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	tg := cqschema.NewTestDataGenerator(0)
	normal := tg.Generate(table, cqschema.GenTestDataOptions{MaxRows: rowsPerRecord})
	checkRoundTrip(t, p, h, table, normal, "insert")

	tg.Reset() // same ids and names, so the second write updates the same ten users
	nulls := tg.Generate(table, cqschema.GenTestDataOptions{MaxRows: rowsPerRecord, NullRows: true})
	checkRoundTrip(t, p, h, table, nulls, "upsert with nulls")
}

// checkRoundTrip writes rec and requires the table to read back as exactly rec.
func checkRoundTrip(t *testing.T, p *plugin.Plugin, h *harness, table *cqschema.Table, rec arrow.Record, step string) {
	t.Helper()
	if err := p.WriteAll(context.Background(), []message.WriteMessage{&message.WriteInsert{Record: rec}}); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	got := readSorted(t, h, table)
	if int64(len(got)) != rec.NumRows() {
		t.Fatalf("%s: read back %d rows, want %d", step, len(got), rec.NumRows())
	}
	if diff := plugin.RecordsDiff(table.ToArrowSchema(), got, []arrow.Record{rec}); diff != "" {
		t.Fatalf("%s: read-back differs:\n%s", step, diff)
	}
}

// idValue is row 0 of the int64 column col.
func idValue(rec arrow.Record, col int) int64 {
	ids, ok := rec.Column(col).(*array.Int64)
	if !ok {
		panic(fmt.Sprintf("id column is %s, not int64", rec.Column(col).DataType()))
	}
	return ids.Value(0)
}

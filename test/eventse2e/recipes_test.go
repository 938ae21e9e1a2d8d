package eventse2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestRecipesThroughTheBinaries runs the two event recipes of docs/recipes — their queries and
// their destination settings as written — from the Snowflake emulator into the Braze emulator
// through the real binaries, checks what landed against the source tables, and runs each again
// to see it send nothing.
func TestRecipesThroughTheBinaries(t *testing.T) {
	key := testbin.NewKeyPair(t)
	now := time.Now().UTC().Truncate(time.Second) // the data is recent: inside the event window
	sf := emutest.Snowflake(t, snowflakeemu.Options{PublicKey: key.Public, Now: now})
	must(t, sf.SeedCurrents(context.Background(), 2000))
	lines := seedOrderLines(t, sf, now)
	host, port := sf.HostPort()
	connect := snowflake.Spec{Account: "EMU", User: "BRAZESYNC", PrivateKeyPath: key.PrivatePath, Warehouse: "COMPUTE_WH",
		Role: "SYNC_ROLE", Database: sf.Options().Database, Schema: sf.Options().Schema, Host: host, Port: port, Protocol: "http"}

	t.Run("order purchases", func(t *testing.T) {
		emu := startBraze(t)
		spec := recipeSpec(t, "snowflake-order-purchases.yml", connect)
		res := sync(t, emu, spec, 0)
		checkOrderPurchases(t, emu, res, lines, now)
		again := sync(t, emu, spec, 0)
		if again.Report.PurchasesSent != 0 || len(emu.Purchases()) != int(res.Report.PurchasesSent) {
			t.Errorf("the second run sent again:\n%s", again.Report.Summary())
		}
	})
	t.Run("session milestones", func(t *testing.T) {
		emu := startBraze(t)
		spec := recipeSpec(t, "snowflake-session-milestone-events.yml", connect)
		res := sync(t, emu, spec, 0)
		checkMilestones(t, emu, sf, now)
		again := sync(t, emu, spec, 0)
		if again.Report.EventsSent != 0 || len(emu.Events()) != int(res.Report.EventsSent) {
			t.Errorf("the second run sent again:\n%s", again.Report.Summary())
		}
	})
}

// recipeSpec is a recipe's spec with its source pointed at the emulator (the recipe's queries,
// connect's login) and its destination's settings as written, plus the test's state folder,
// dead-letter file and pacing.
func recipeSpec(t *testing.T, file string, connect snowflake.Spec) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testbin.Root(), "docs", "recipes", file))
	must(t, err)
	var queries []snowflake.Query
	var dest map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var doc struct {
			Kind string
			Spec struct {
				Spec map[string]any
			}
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else {
			must(t, err)
		}
		switch doc.Kind {
		case "source":
			b, _ := json.Marshal(doc.Spec.Spec["queries"])
			must(t, json.Unmarshal(b, &queries))
		case "destination":
			dest = doc.Spec.Spec
		}
	}
	if len(queries) == 0 || dest == nil {
		t.Fatalf("%s: no queries or no destination", file)
	}
	connect.Queries = queries
	dest["state_dir"] = filepath.Join(t.TempDir(), "state")
	dest["dead_letter_file"] = "dead.jsonl"
	dest["update_existing_only"] = false // the emulator starts with no users
	dest["rate_limit"] = -1
	b, err := json.Marshal(dest)
	must(t, err)
	dst := fmt.Sprintf("kind: destination\nspec:\n  name: braze\n  path: {{BIN}}/braze-destination\n  registry: local\n  write_mode: append\n  spec: %s\n", b)
	return testbin.Spec(testbin.SnowflakeSource(connect), dst)
}

// orderLine is one row of ORDER_LINES, the orders-like table snowflake-order-purchases.yml reads.
type orderLine struct {
	order, customer, sku, currency, status string
	line, cents, qty                       int64
	at                                     time.Time
}

// seedOrderLines creates ORDER_LINES: 400 lines over 14 days, a fifth cancelled, a few with an
// invalid currency or a quantity of 0 (dead-lettered by the recipe's run).
func seedOrderLines(t *testing.T, sf *snowflakeemu.Emulator, now time.Time) []orderLine {
	t.Helper()
	cols := []snowflakeemu.ColumnDef{{Name: "ORDER_ID", Type: "VARCHAR"}, {Name: "LINE_NO", Type: "NUMBER(38,0)"},
		{Name: "CUSTOMER_ID", Type: "VARCHAR"}, {Name: "SKU", Type: "VARCHAR"}, {Name: "UNIT_PRICE", Type: "NUMBER(12,2)"},
		{Name: "CURRENCY", Type: "VARCHAR"}, {Name: "QUANTITY", Type: "NUMBER(38,0)"}, {Name: "ORDERED_AT", Type: "TIMESTAMP_NTZ(9)"},
		{Name: "STATUS", Type: "VARCHAR"}, {Name: "CHANNEL", Type: "VARCHAR"}, {Name: "COUPON_CODE", Type: "VARCHAR"}}
	ctx := context.Background()
	must(t, sf.Catalog().CreateTable(ctx, "ORDER_LINES", cols))
	var lines []orderLine
	var rows [][]any
	for i := int64(0); i < 400; i++ {
		l := orderLine{order: fmt.Sprintf("o-%d", i/4), line: i % 4, customer: fmt.Sprintf("user_%d", i%90),
			sku: fmt.Sprintf("SKU-%d", i%31), cents: 100 + (i*7919)%29900, currency: []string{"USD", "EUR", "gbp"}[i%3],
			qty: 1 + i%7, at: now.Add(-time.Duration(i*50) * time.Minute), status: "completed"}
		switch {
		case i%5 == 0:
			l.status = "cancelled"
		case i%41 == 1:
			l.currency = "XYZ"
		case i%43 == 2:
			l.qty = 0
		}
		lines = append(lines, l)
		rows = append(rows, []any{l.order, l.line, l.customer, l.sku, fmt.Sprintf("%d.%02d", l.cents/100, l.cents%100),
			l.currency, l.qty, l.at, l.status, []any{"web", "app"}[i%2], nil})
	}
	must(t, sf.Catalog().Insert(ctx, "ORDER_LINES", rows))
	return lines
}

// checkOrderPurchases: every completed line of the last 7 days is one purchase with its own
// values, or, with a bad currency or quantity, a dead letter naming the column.
func checkOrderPurchases(t *testing.T, emu *brazeemu.Emulator, res testbin.Result, lines []orderLine, now time.Time) {
	t.Helper()
	type key struct {
		user, sku string
		at        int64
	}
	got := map[key]brazeemu.RecordedPurchase{}
	for _, p := range emu.Purchases() {
		k := key{p.Owner.ExternalID, p.ProductID, p.Time.Unix()}
		if _, dup := got[k]; dup {
			t.Fatalf("purchase %+v recorded twice", k)
		}
		got[k] = p
	}
	dead := map[string]string{}
	for _, l := range deadLetters(t, res) {
		dead[l.Key+"/"+fmt.Sprint(l.Row)] = l.Column
	}
	want, wantDead := 0, 0
	for _, l := range lines {
		if l.status != "completed" || l.at.Before(now.AddDate(0, 0, -7)) {
			continue
		}
		if l.currency == "XYZ" || l.qty == 0 {
			wantDead++
			continue
		}
		want++
		p, ok := got[key{l.customer, l.sku, l.at.Unix()}]
		switch {
		case !ok:
			t.Fatalf("line %s-%d is not in Braze", l.order, l.line)
		case p.Currency != strings.ToUpper(l.currency) || p.Quantity != l.qty || math.Round(p.Price*100) != float64(l.cents) ||
			p.Properties["channel"] == nil:
			t.Fatalf("line %s-%d landed as %+v", l.order, l.line, p)
		}
	}
	if len(got) != want || len(dead) != wantDead || want == 0 || wantDead == 0 {
		t.Fatalf("%d purchases (want %d), %d dead letters (want %d): %v", len(got), want, len(dead), wantDead, dead)
	}
	for k, col := range dead {
		if col != "braze_currency" && col != "braze_quantity" {
			t.Errorf("dead letter %s names column %q", k, col)
		}
	}
	if res.Report.RowsRejected[destination.ReasonInvalidValue] != int64(wantDead) {
		t.Errorf("report:\n%s", res.Report.Summary())
	}
}

// checkMilestones: one reached_5_sessions event per user whose fifth session start (by time,
// then id) is in the last 30 days, with its time, app_id and properties: computed here by SQLite
// straight from the Currents table, not through the recipe's Snowflake SQL.
func checkMilestones(t *testing.T, emu *brazeemu.Emulator, sf *snowflakeemu.Emulator, now time.Time) {
	t.Helper()
	rows, err := sf.DB().Query(`SELECT m.EXTERNAL_USER_ID, m.APP_ID, m.PLATFORM, m.TIME, m.TIME/86400 - f.TIME/86400
		FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY EXTERNAL_USER_ID ORDER BY TIME, ID) AS N
		      FROM USERS_BEHAVIORS_APP_SESSIONSTART WHERE EXTERNAL_USER_ID IS NOT NULL) m
		JOIN USERS_BEHAVIORS_APP_FIRSTSESSION f ON f.EXTERNAL_USER_ID = m.EXTERNAL_USER_ID
		WHERE m.N = 5 AND m.TIME >= ?`, now.AddDate(0, 0, -30).Unix())
	must(t, err)
	defer rows.Close()
	got := map[string]brazeemu.RecordedEvent{}
	for _, e := range emu.Events() {
		if _, dup := got[e.Owner.ExternalID]; dup {
			t.Fatalf("%s has two milestone events", e.Owner.ExternalID)
		}
		got[e.Owner.ExternalID] = e
	}
	want := 0
	for rows.Next() {
		var user, app, platform string
		var at, days int64
		must(t, rows.Scan(&user, &app, &platform, &at, &days))
		want++
		e, ok := got[user]
		switch {
		case !ok:
			t.Fatalf("no milestone for %s", user)
		case e.Name != "reached_5_sessions" || e.AppID != app || e.Time.Unix() != at ||
			e.Properties["platform"] != platform || e.Properties["days_since_first_session"] != days:
			t.Fatalf("%s: %+v, want app %s platform %s at %d days %d", user, e, app, platform, at, days)
		}
	}
	must(t, rows.Err())
	if want == 0 || len(got) != want {
		t.Fatalf("%d milestone events, want %d", len(got), want)
	}
}

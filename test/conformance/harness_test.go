package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/emutest"
)

// apiKey is the emulators' only key; it is a test value, not a secret.
const apiKey = "conformance-key"

// harness is a test-only CloudQuery client. Writes go, unchanged, to a real destination.Client
// whose endpoint is a real brazeemu emulator over HTTP; Read rebuilds Arrow records from the
// profiles that emulator stored. Each table gets its own emulator and destination client:
// Braze has one flat user space, so one emulator per table is what keeps the suite's tables
// (which reuse ids 1, 2, … with random name suffixes) apart, and the destination's spec
// (key_column, attributes) is per table because the suite's tables have different columns.
type harness struct {
	plugin.UnimplementedSource
	t   testing.TB
	dir string // dead-letter files

	mu     sync.Mutex
	tables map[string]*backend
}

// backend is one table's emulator and the destination client writing to it.
type backend struct {
	table   *cqschema.Table
	keyCol  string
	omitted []string // columns the destination cannot carry, left out of `attributes`
	emu     *brazeemu.Emulator
	dest    plugin.Client
}

// Assert at compile time that harness is a full CloudQuery plugin client.
var _ plugin.Client = (*harness)(nil)

func newHarness(t testing.TB) *harness {
	return &harness{t: t, dir: t.TempDir(), tables: map[string]*backend{}}
}

// newPlugin wraps h in a plugin, initialised like the CLI would (the spec is ignored: every
// table builds its own destination spec).
func newPlugin(t testing.TB, h *harness) *plugin.Plugin {
	p := plugin.NewPlugin("braze-conformance", "test",
		func(context.Context, zerolog.Logger, []byte, plugin.NewClientOptions) (plugin.Client, error) {
			return h, nil
		}, plugin.WithKind("destination"))
	if err := p.Init(context.Background(), nil, plugin.NewClientOptions{}); err != nil {
		t.Fatalf("init plugin: %v", err)
	}
	return p
}

// Write sorts the stream by table and hands each table's messages, in order, to that table's
// destination client in one Write call. destination.Client.Write returns only once every row is
// answered by the emulator, which is the synchronous behaviour the suite needs.
func (h *harness) Write(ctx context.Context, msgs <-chan message.WriteMessage) error {
	var order []string
	byTable := map[string][]message.WriteMessage{}
	for msg := range msgs {
		name := msg.GetTable().Name
		if m, ok := msg.(*message.WriteMigrateTable); ok {
			if err := h.migrate(ctx, m.Table); err != nil {
				return err
			}
		}
		if _, seen := byTable[name]; !seen {
			order = append(order, name)
		}
		byTable[name] = append(byTable[name], msg)
	}
	for _, name := range order {
		b, err := h.backend(name)
		if err != nil {
			return err
		}
		if err := writeAll(ctx, b.dest, byTable[name]); err != nil {
			return fmt.Errorf("writing table %s: %w", name, err)
		}
	}
	return nil
}

func writeAll(ctx context.Context, c plugin.Client, msgs []message.WriteMessage) error {
	ch := make(chan message.WriteMessage, len(msgs))
	for _, m := range msgs {
		ch <- m
	}
	close(ch)
	return c.Write(ctx, ch)
}

// migrate starts the table's emulator and destination client the first time the table is seen.
func (h *harness) migrate(ctx context.Context, table *cqschema.Table) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.tables[table.Name]; ok {
		return nil
	}
	emu := emutest.Braze(h.t, brazeemu.Options{APIKeys: []string{apiKey}})
	b := &backend{table: table, keyCol: keyColumn(table), emu: emu}
	spec, err := b.spec(filepath.Join(h.dir, table.Name+"-dead-letter.jsonl"))
	if err != nil {
		return err
	}
	dest, err := destination.New(ctx, zerolog.Nop(), spec, plugin.NewClientOptions{})
	if err != nil {
		return fmt.Errorf("destination for table %s: %w", table.Name, err)
	}
	b.dest = dest
	h.tables[table.Name] = b
	return nil
}

func (h *harness) backend(name string) (*backend, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, ok := h.tables[name]
	if !ok {
		return nil, fmt.Errorf("table %s was written before it was migrated", name)
	}
	return b, nil
}

// keyColumn picks the user key: the table's single primary key, else "id", which every table of
// the suite has and fills with distinct values per row.
func keyColumn(t *cqschema.Table) string {
	if pks := t.PrimaryKeys(); len(pks) == 1 {
		return pks[0]
	}
	return "id"
}

// spec is the destination spec for one table: every column that is not the key maps to an
// attribute of the same name, so the read-back can find it; nulls are sent as null ("unset") so
// that an upsert with null columns clears them, as the suite expects; no export flag and no
// update_existing_only, so profiles are created and hold only the table's columns; and any
// rejected row fails the write, so no row can vanish silently.
func (b *backend) spec(deadLetter string) ([]byte, error) {
	attrs := map[string]string{}
	for _, c := range b.table.Columns {
		if c.Name == b.keyCol {
			continue
		}
		if !carried(c.Type) {
			b.omitted = append(b.omitted, c.Name)
			continue
		}
		attrs[c.Name] = c.Name
	}
	spec, err := json.Marshal(map[string]any{
		"api_key":               apiKey,
		"endpoint":              b.emu.URL(),
		"allow_custom_endpoint": true,
		"key_column":            b.keyCol,
		"attributes":            attrs,
		"nulls":                 "unset",
		"export_attribute":      "",
		"update_existing_only":  false,
		"max_rejected_rows":     0,
		"dead_letter_file":      deadLetter,
		"state_dir":             filepath.Join(filepath.Dir(deadLetter), "state"),
	})
	if err != nil {
		return nil, fmt.Errorf("encoding spec: %w", err)
	}
	return spec, nil
}

// carried reports whether the destination accepts a column of this type (schema/doc.go: binary,
// durations, intervals and maps whose keys are not strings are refused at mapping time, by design).
func carried(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.FIXED_SIZE_BINARY, arrow.DURATION,
		arrow.INTERVAL_MONTHS, arrow.INTERVAL_DAY_TIME, arrow.INTERVAL_MONTH_DAY_NANO:
		return false
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST:
		return carried(dt.(interface{ Elem() arrow.DataType }).Elem())
	case arrow.MAP:
		mt := dt.(*arrow.MapType)
		return mt.KeyType().ID() == arrow.STRING && carried(mt.ItemType())
	case arrow.STRUCT:
		for _, f := range dt.(*arrow.StructType).Fields() {
			if !carried(f.Type) {
				return false
			}
		}
	}
	return true
}

// Read rebuilds the table's rows from the profiles its emulator holds, one row per profile.
func (h *harness) Read(_ context.Context, table *cqschema.Table, res chan<- arrow.Record) error {
	b, err := h.backend(table.Name)
	if err != nil {
		return err
	}
	rec, err := rebuild(table, b.keyCol, b.emu.Profiles())
	if err != nil {
		return fmt.Errorf("reading table %s back: %w", table.Name, err)
	}
	res <- rec
	return nil
}

// Close closes every table's destination client; the emulators close with the test.
func (h *harness) Close(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, b := range h.tables {
		if err := b.dest.Close(ctx); err != nil {
			return err
		}
	}
	return nil
}

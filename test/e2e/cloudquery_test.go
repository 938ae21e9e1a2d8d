package e2e

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cloudquery/plugin-pb-go/managedplugin"
	pbcq "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/schema"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestDestinationServesCloudQueryProtocol launches braze-destination exactly as the CloudQuery CLI
// does (plugin-pb-go's managedplugin: `braze-destination serve --network unix …`) and writes through
// CloudQuery's own gRPC client: migrate, inserts, delete-stale. The emulator's store is then checked.
func TestDestinationServesCloudQueryProtocol(t *testing.T) {
	const key = "e2e-cq-key-55aa"
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mp, err := managedplugin.NewClient(ctx, managedplugin.PluginDestination,
		managedplugin.Config{Name: "braze", Registry: managedplugin.RegistryLocal, Path: testbin.Path(t, "braze-destination")},
		managedplugin.WithLogger(zerolog.New(io.Discard).Level(zerolog.WarnLevel)), managedplugin.WithNoSentry())
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Terminate()
	c := pbcq.NewPluginClient(mp.Conn)
	name, err := c.GetName(ctx, &pbcq.GetName_Request{})
	if err != nil || name.Name != "braze" {
		t.Fatalf("GetName = %v, %v", name, err)
	}
	spec, _ := json.Marshal(map[string]any{"api_key": key, "endpoint": emu.URL(), "update_existing_only": false, "export_value": "CQ",
		"state_dir": t.TempDir(), "dead_letter_file": filepath.Join(t.TempDir(), "dead.jsonl")})
	if _, err := c.Init(ctx, &pbcq.Init_Request{Spec: spec}); err != nil {
		t.Fatal(err)
	}
	rec := cqRecord(t)
	defer rec.Release()
	write(t, ctx, c, rec)
	if _, err := c.Close(ctx, &pbcq.Close_Request{}); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"cq-1", "cq-2", "cq-3"} {
		p, ok := emu.Profile(id)
		if !ok {
			t.Fatalf("%s missing", id)
		}
		if p.Standard["first_name"] != []string{"Ann", "Bob", "Cy"}[i] || len(strs(p.Custom["looker_export"])) != 1 {
			t.Errorf("%s = %+v", id, p)
		}
	}
	if n := len(emu.Profiles()); n != 3 {
		t.Errorf("%d profiles, want 3", n)
	}
}

func write(t *testing.T, ctx context.Context, c pbcq.PluginClient, rec arrow.Record) {
	t.Helper()
	stream, err := c.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	table := cqschema.Table{Name: "people", Columns: cqschema.ColumnList{{Name: "external_id", Type: arrow.BinaryTypes.String}}}
	tb, err := pbcq.SchemaToBytes(table.ToArrowSchema())
	if err != nil {
		t.Fatal(err)
	}
	rb, err := pbcq.RecordToBytes(rec)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []*pbcq.Write_Request{
		{Message: &pbcq.Write_Request_MigrateTable{MigrateTable: &pbcq.Write_MessageMigrateTable{Table: tb}}},
		{Message: &pbcq.Write_Request_Insert{Insert: &pbcq.Write_MessageInsert{Record: rb}}},
		{Message: &pbcq.Write_Request_Delete{Delete: &pbcq.Write_MessageDeleteStale{TableName: "people", SourceName: "test"}}},
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		t.Fatalf("write failed: %v", err)
	}
}

func cqRecord(t *testing.T) arrow.Record {
	md := arrow.NewMetadata([]string{cqschema.MetadataTableName}, []string{"people"})
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "external_id", Type: arrow.BinaryTypes.String},
		schema.FieldWithTags(arrow.Field{Name: "fname", Type: arrow.BinaryTypes.String}, "braze[first_name]"),
		{Name: "_cq_source_name", Type: arrow.BinaryTypes.String},
	}, &md)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"cq-1", "cq-2", "cq-3"}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"Ann", "Bob", "Cy"}, nil)
	b.Field(2).(*array.StringBuilder).AppendValues([]string{"s", "s", "s"}, nil)
	return b.NewRecord()
}

package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/cloudquery/plugin-pb-go/managedplugin"
	pbcq "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"google.golang.org/grpc/status"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/runner"
	bzschema "github.com/brazesync/brazesync/schema"
)

// tagsInRecordsOnly names the source plugins whose column tags travel only in the records' field
// metadata: a CloudQuery table (GetTables) cannot carry field metadata, so their first record is
// read to see the tags. Every other source (Snowflake, any CloudQuery plugin) maps by column names,
// which GetTables carries, so it is checked describe-only.
var tagsInRecordsOnly = map[string]bool{"file": true, "looker": true}

// table is one source table as a sync would deliver it.
type table struct {
	name   string
	schema *arrow.Schema
	// empty is set when the table's schema came from GetTables because it has no rows.
	empty bool
}

// checkSource starts the source as `brazesync sync` does, lists its tables and checks each
// table's mapping against every destination it feeds.
func checkSource(ctx context.Context, r *Result, opts Options, src *runner.SourceSpec, dests map[string]*destination.Spec) {
	line := src.Name + ": source"
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	rpc, stop, err := startSource(ctx, opts, src)
	if err != nil {
		r.add(Fail, line, oneLine(err), "run `make build` (or fix path:), and check the plugin runs on this machine")
		return
	}
	defer stop()
	name, tables, err := listTables(ctx, rpc, src)
	if err != nil {
		if isPivotError(err) {
			r.add(Pass, line, "connected; the result header was read", "")
			r.add(Fail, src.Name+": pivots", oneLine(err), pivotFix)
			return
		}
		r.add(Fail, line, oneLine(err), sourceFix(src))
		return
	}
	if len(tables) == 0 {
		r.add(Fail, line, "connected, but no table matches tables: "+strings.Join(src.Tables, ", "), "set tables: [\"*\"] or name the source's tables")
		return
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.name
	}
	how := "describe-only"
	if tagsInRecordsOnly[name] {
		how = "header and first rows, for the column tags"
	}
	r.add(Pass, line, fmt.Sprintf("plugin %s connected; tables %s (%s)", name, strings.Join(names, ", "), how), "")
	if tagsInRecordsOnly[name] {
		peekTags(ctx, rpc, src, tables)
	}
	for _, t := range tables {
		warnInference(r, src.Name+"/"+t.name, t.schema)
	}
	for _, t := range tables {
		for _, d := range src.Destinations {
			if ds := dests[d]; ds != nil {
				checkTable(r, src.Name+"/"+t.name+" -> "+d, t, name, ds)
			}
		}
	}
}

func sourceFix(src *runner.SourceSpec) string {
	return fmt.Sprintf("fix the source %q as the message says (credentials, host, query); docs/troubleshooting.md lists the usual causes", src.Name)
}

const pivotFix = "remove the pivot from the Look (a pivoted measure is several values per user, one Braze attribute holds one), " +
	"or save an unpivoted copy of the Look for Braze; see docs/looker.md#pivots"

// isPivotError tells a Looker refusal of a tagged pivot apart from other source errors.
func isPivotError(err error) bool {
	return strings.Contains(err.Error(), "pivot")
}

// startSource launches the plugin like the CloudQuery CLI and the runner do, and sends it the spec.
func startSource(ctx context.Context, opts Options, src *runner.SourceSpec) (pbcq.PluginClient, func(), error) {
	reg := managedplugin.RegistryLocal
	if src.Registry == "grpc" {
		reg = managedplugin.RegistryGrpc
	}
	mp, err := managedplugin.NewClient(ctx, managedplugin.PluginSource,
		managedplugin.Config{Name: src.Name, Registry: reg, Path: src.Path},
		managedplugin.WithLogger(opts.Log.With().Str("source", src.Name).Logger()), managedplugin.WithNoSentry())
	if err != nil {
		return nil, nil, fmt.Errorf("starting plugin %s: %w", src.Path, err)
	}
	stop := func() { _ = mp.Terminate() }
	rpc := pbcq.NewPluginClient(mp.Conn)
	spec, err := runner.SpecJSON(src.Spec)
	if err == nil {
		_, err = rpc.Init(ctx, &pbcq.Init_Request{Spec: spec, InvocationId: "check"})
	}
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("spec refused: %w", grpcMessage(err))
	}
	return rpc, stop, nil
}

// listTables asks for the selected tables: derived by each plugin without reading the data.
func listTables(ctx context.Context, rpc pbcq.PluginClient, src *runner.SourceSpec) (string, []*table, error) {
	n, err := rpc.GetName(ctx, &pbcq.GetName_Request{})
	if err != nil {
		return "", nil, fmt.Errorf("plugin name: %w", grpcMessage(err))
	}
	req := &pbcq.GetTables_Request{Tables: src.Tables, SkipTables: src.SkipTables}
	if src.SkipDependentTables != nil {
		req.SkipDependentTables = *src.SkipDependentTables
	}
	resp, err := rpc.GetTables(ctx, req)
	if err != nil {
		return n.Name, nil, grpcMessage(err)
	}
	schemas, err := pbcq.NewSchemasFromBytes(resp.Tables)
	if err != nil {
		return n.Name, nil, fmt.Errorf("tables are not Arrow schemas: %w", err)
	}
	out := make([]*table, 0, len(schemas))
	for _, sc := range schemas {
		name, _ := sc.Metadata().GetValue(cqschema.MetadataTableName)
		out = append(out, &table{name: name, schema: sc})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return n.Name, out, nil
}

// peekTags replaces each table's schema with its first record's, which carries the column tags.
// Each table is synced on its own and the stream is cancelled after the first record, so only the
// first batch is read. A table without rows keeps its GetTables schema and is marked empty.
func peekTags(ctx context.Context, rpc pbcq.PluginClient, src *runner.SourceSpec, tables []*table) {
	for _, t := range tables {
		sc, err := firstRecordSchema(ctx, rpc, t.name)
		if err != nil || sc == nil {
			t.empty = true
			continue
		}
		t.schema = sc
	}
}

func firstRecordSchema(ctx context.Context, rpc pbcq.PluginClient, name string) (*arrow.Schema, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := rpc.Sync(ctx, &pbcq.Sync_Request{Tables: []string{name}})
	if err != nil {
		return nil, err
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		ins, ok := msg.Message.(*pbcq.Sync_Response_Insert)
		if !ok {
			continue
		}
		rec, err := pbcq.NewRecordFromBytes(ins.Insert.Record)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			continue
		}
		sc := rec.Schema()
		rec.Release()
		return sc, nil
	}
}

// grpcMessage strips the gRPC status wrapping so users read the plugin's own words.
func grpcMessage(err error) error {
	if st, ok := status.FromError(err); ok {
		return errors.New(st.Message())
	}
	return err
}

// warnInference shows, per column, where a source that types columns from the whole file (CSV,
// NDJSON) found later rows disagreeing with the start of the file: the column is sent with the
// wider type (say, every value as text), which may not be what the file's first rows suggest.
func warnInference(r *Result, line string, sc *arrow.Schema) {
	for _, f := range sc.Fields() {
		if note, ok := f.Metadata.GetValue(bzschema.MetadataInferenceNote); ok && note != "" {
			r.add(Warn, line+": column "+f.Name, note,
				"fix the values that differ, or pin the column's type with types: {"+f.Name+": TYPE} in the file's spec (rows that do not fit are dead-lettered)")
		}
	}
}

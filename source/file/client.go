// Package file is a CloudQuery source plugin that reads CSV, Parquet and NDJSON files, streaming,
// into record batches: the embedded default input of brazesync. Each file is one table; column
// names are kept exactly as written, so a CSV header `braze[first_name]` maps without
// configuration, and `tags:` in the spec attach Looker-style tags as Arrow field metadata.
//
// CSV and NDJSON carry no types, so a first pass over the whole file decides each column's type
// before anything is sent (infer.go); Parquet files carry theirs.
package file

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/schema"
	"github.com/brazesync/brazesync/source/sourceerr"
)

// Name, Version and Team identify the plugin; Version is stamped by the build.
var (
	Name    = "file"
	Version = "development"
	Team    = "brazesync"
)

// NewPlugin builds the CloudQuery source plugin, with the spec's JSON schema. Table validation at Init is off: it would read
// every file during Init, whose errors plugin-sdk strips of their class (see package sourceerr);
// the files are read, and their errors classified, by Tables and Sync.
func NewPlugin() *plugin.Plugin {
	p := plugin.NewPlugin(Name, Version, New, plugin.WithKind("source"), plugin.WithTeam(Team),
		plugin.WithJSONSchema(jsonSchema()))
	p.SetSkipTableValidation(true)
	return p
}

// Client reads the spec's files.
type Client struct {
	plugin.UnimplementedDestination
	spec  *Spec
	log   zerolog.Logger
	hooks testHooks

	mu    sync.Mutex
	plans map[string]*filePlan // by table name: each file is typed once per process
}

// filePlan is a file's table schema and, for CSV and NDJSON, the first pass's plan.
type filePlan struct {
	schema *arrow.Schema // with the table name and the spec's tags
	plan   *plan         // nil for Parquet
}

var _ plugin.Client = (*Client)(nil)

// New parses the spec. With NoConnection (docs, packaging) no file is touched.
func New(_ context.Context, log zerolog.Logger, specJSON []byte, opts plugin.NewClientOptions) (plugin.Client, error) {
	c := &Client{log: log.With().Str("module", "file-source").Logger(), plans: map[string]*filePlan{}, hooks: loadTestHooks()}
	if opts.NoConnection {
		return c, nil
	}
	spec, err := ParseSpec(specJSON)
	if err != nil {
		return nil, configError(err)
	}
	c.spec = spec
	return c, nil
}

// Tables derives each file's table: from the Parquet metadata, or from a first pass over a CSV or
// NDJSON file that types every column by all of its values.
func (c *Client) Tables(ctx context.Context, opts plugin.TableOptions) (_ cqschema.Tables, err error) {
	if c.spec == nil {
		return cqschema.Tables{}, nil
	}
	var tables cqschema.Tables
	for _, f := range c.spec.Files {
		fp, err := c.planOf(ctx, f)
		if err != nil {
			return nil, err
		}
		t, err := cqschema.NewTableFromArrowSchema(fp.schema)
		if err != nil {
			return nil, configError(fmt.Errorf("%s: %w", f.Path, err))
		}
		tables = append(tables, t)
	}
	return tables.FilterDfs(opts.Tables, opts.SkipTables, opts.SkipDependentTables)
}

// planOf types a file once; a panic while doing so is an error naming the file.
func (c *Client) planOf(ctx context.Context, f FileSpec) (fp *filePlan, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fp := c.plans[f.Name]; fp != nil {
		return fp, nil
	}
	defer sourceerr.Recover(&err, func() string { return "reading the types of " + f.Path }, c.logStack)
	fp = &filePlan{}
	var sc *arrow.Schema
	switch f.Format {
	case FormatCSV:
		fp.plan, err = inferCSV(f)
	case FormatNDJSON:
		fp.plan, err = inferNDJSON(f)
	default:
		sc, err = parquetSchema(ctx, f)
	}
	if err != nil {
		return nil, err
	}
	if fp.plan != nil {
		sc = schema.WithRowsTotal(fp.plan.schema(), fp.plan.rows) // lets the runner show an ETA
	}
	if fp.schema, err = tableSchema(f, sc); err != nil {
		return nil, err
	}
	c.plans[f.Name] = fp
	return fp, nil
}

func parquetSchema(ctx context.Context, f FileSpec) (*arrow.Schema, error) {
	r, err := openParquet(ctx, f.Path, 1)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", f.Path, err)
	}
	defer r.Close()
	return schema.WithRowsTotal(r.Schema(), r.rowsTotal()), nil
}

// tableSchema names the table in the schema metadata and attaches the spec's tags.
func tableSchema(f FileSpec, sc *arrow.Schema) (*arrow.Schema, error) {
	fields := sc.Fields()
	used := map[string]bool{}
	for i, fd := range fields {
		if tags, ok := f.Tags[fd.Name]; ok {
			fields[i] = schema.FieldWithTags(fd, tags...)
			used[fd.Name] = true
		}
		fields[i].Nullable = true
	}
	for col := range f.Tags {
		if !used[col] {
			return nil, configError(fmt.Errorf("files: %s: tags: column %q is not in the file", f.Path, col))
		}
	}
	md := sc.Metadata()
	keys := append([]string{cqschema.MetadataTableName}, md.Keys()...)
	vals := append([]string{f.Name}, md.Values()...)
	m := arrow.NewMetadata(keys, vals)
	return arrow.NewSchema(fields, &m), nil
}

// Sync streams every selected file. A panic is recovered into an error naming the file and row,
// so one input never kills the plugin.
func (c *Client) Sync(ctx context.Context, opts plugin.SyncOptions, res chan<- message.SyncMessage) error {
	tables, err := c.Tables(ctx, plugin.TableOptions{Tables: opts.Tables, SkipTables: opts.SkipTables, SkipDependentTables: opts.SkipDependentTables})
	if err != nil {
		return err
	}
	for _, f := range c.spec.Files {
		t := tables.Get(f.Name)
		if t == nil {
			continue
		}
		if err := c.syncFile(ctx, f, t, res); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) syncFile(ctx context.Context, f FileSpec, t *cqschema.Table, res chan<- message.SyncMessage) (err error) {
	var rows int64
	defer sourceerr.Recover(&err, func() string { return fmt.Sprintf("reading %s after row %d", f.Path, rows) }, c.logStack)
	fp, err := c.planOf(ctx, f)
	if err != nil {
		return err
	}
	r, err := openRows(ctx, f, fp.plan, fp.schema, c.spec.BatchRows)
	if err != nil {
		return fmt.Errorf("opening %s: %w", f.Path, err)
	}
	defer r.Close()
	res <- &message.SyncMigrateTable{Table: t}
	for r.Next() {
		rec := r.Record()
		out := array.NewRecord(fp.schema, rec.Columns(), rec.NumRows())
		c.hooks.afterRows(f.Path, rows)
		rows += out.NumRows()
		select {
		case res <- &message.SyncInsert{Record: out}:
		case <-ctx.Done():
			out.Release()
			return ctx.Err()
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("reading %s after %d rows: %w", f.Path, rows, err)
	}
	c.log.Info().Str("table", f.Name).Int64("rows", rows).Msg("file read")
	return nil
}

func (c *Client) logStack(stack []byte) {
	c.log.Error().Bytes("stack", stack).Msg("recovered from a panic")
}

// Close has nothing to release.
func (*Client) Close(context.Context) error { return nil }

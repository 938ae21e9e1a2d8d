// Package file is a CloudQuery source plugin that reads CSV, Parquet and NDJSON files with Arrow's own
// readers, streaming, into record batches: the embedded default input of brazesync. Each file is one
// table; column names are kept exactly as written, so a CSV header `braze[first_name]` maps without
// configuration, and `tags:` in the spec attach Looker-style tags as Arrow field metadata.
package file

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/schema"
)

// Name, Version and Team identify the plugin; Version is stamped by the build.
var (
	Name    = "file"
	Version = "development"
	Team    = "brazesync"
)

// NewPlugin builds the CloudQuery source plugin.
func NewPlugin() *plugin.Plugin {
	return plugin.NewPlugin(Name, Version, New, plugin.WithKind("source"), plugin.WithTeam(Team))
}

// Client reads the spec's files.
type Client struct {
	plugin.UnimplementedDestination
	spec *Spec
	log  zerolog.Logger
}

var _ plugin.Client = (*Client)(nil)

// New parses the spec. With NoConnection (docs, packaging) no file is touched.
func New(_ context.Context, log zerolog.Logger, specJSON []byte, opts plugin.NewClientOptions) (plugin.Client, error) {
	c := &Client{log: log.With().Str("module", "file-source").Logger()}
	if opts.NoConnection {
		return c, nil
	}
	spec, err := ParseSpec(specJSON)
	if err != nil {
		return nil, err
	}
	c.spec = spec
	return c, nil
}

// Tables derives each file's table from its schema: Parquet metadata, the first CSV batch, or the
// first NDJSON lines. No file is read whole.
func (c *Client) Tables(ctx context.Context, opts plugin.TableOptions) (cqschema.Tables, error) {
	if c.spec == nil {
		return cqschema.Tables{}, nil
	}
	var tables cqschema.Tables
	for _, f := range c.spec.Files {
		sc, err := c.schemaOf(ctx, f)
		if err != nil {
			return nil, err
		}
		t, err := cqschema.NewTableFromArrowSchema(sc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		tables = append(tables, t)
	}
	return tables.FilterDfs(opts.Tables, opts.SkipTables, opts.SkipDependentTables)
}

func (c *Client) schemaOf(ctx context.Context, f FileSpec) (*arrow.Schema, error) {
	r, err := openReader(ctx, f, 1024)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", f.Path, err)
	}
	defer r.Close()
	sc := r.Schema()
	if sc == nil { // an inferring CSV reader knows its schema after its first batch
		if !r.Next() {
			if err := r.Err(); err != nil {
				return nil, fmt.Errorf("reading %s: %w", f.Path, err)
			}
			return nil, fmt.Errorf("reading %s: no header", f.Path)
		}
		sc = r.Schema()
	}
	return tableSchema(f, sc)
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
			return nil, fmt.Errorf("files: %s: tags: column %q is not in the file", f.Path, col)
		}
	}
	md := arrow.NewMetadata([]string{cqschema.MetadataTableName}, []string{f.Name})
	return arrow.NewSchema(fields, &md), nil
}

// Sync streams every selected file.
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

func (c *Client) syncFile(ctx context.Context, f FileSpec, t *cqschema.Table, res chan<- message.SyncMessage) error {
	r, err := openReader(ctx, f, c.spec.BatchRows)
	if err != nil {
		return fmt.Errorf("opening %s: %w", f.Path, err)
	}
	defer r.Close()
	res <- &message.SyncMigrateTable{Table: t}
	var sc *arrow.Schema
	var rows int64
	for r.Next() {
		rec := r.Record()
		if sc == nil {
			if sc, err = tableSchema(f, rec.Schema()); err != nil {
				return err
			}
			if rt, ok := r.(interface{ rowsTotal() int64 }); ok {
				sc = schema.WithRowsTotal(sc, rt.rowsTotal()) // lets the runner show an ETA
			}
		}
		out := array.NewRecord(sc, rec.Columns(), rec.NumRows())
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

// Close has nothing to release.
func (*Client) Close(context.Context) error { return nil }

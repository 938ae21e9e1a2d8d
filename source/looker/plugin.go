package looker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/source/sourceerr"
)

// Name and Version identify the plugin; Version is set by ldflags.
var (
	Name    = "looker"
	Version = "development"
)

// NewPlugin returns the looker-source CloudQuery source plugin, with the spec's JSON schema. Table
// validation at Init is off: it would run every Look once to read its header, and then Sync would
// run it again; it would also log in during Init, whose errors plugin-sdk strips of their class.
func NewPlugin() *plugin.Plugin {
	p := plugin.NewPlugin(Name, Version, New, plugin.WithKind("source"), plugin.WithTeam("brazesync"),
		plugin.WithJSONSchema(jsonSchema()))
	p.SetSkipTableValidation(true)
	return p
}

// SourceClient syncs Looker Looks and queries, one table each.
type SourceClient struct {
	plugin.UnimplementedDestination
	logger zerolog.Logger
	spec   Spec
	api    *Client

	mu     sync.Mutex
	tables map[string]*schema.Table // header-derived tables, cached
}

// Assert at compile time that SourceClient is a full plugin client.
var _ plugin.Client = (*SourceClient)(nil)

// New is the plugin's NewClientFunc.
func New(_ context.Context, logger zerolog.Logger, specBytes []byte, opts plugin.NewClientOptions) (plugin.Client, error) {
	c := &SourceClient{logger: logger.With().Str("module", "looker-source").Logger(), tables: map[string]*schema.Table{}}
	if opts.NoConnection {
		return c, nil
	}
	if err := json.Unmarshal(specBytes, &c.spec); err != nil {
		return nil, fmt.Errorf("parsing looker spec: %w", err)
	}
	if err := c.spec.Validate(); err != nil {
		return nil, fmt.Errorf("invalid looker spec: %w", err)
	}
	secret, err := c.spec.secret()
	if err != nil {
		return nil, err
	}
	c.api, err = NewClient(ClientConfig{BaseURL: c.spec.BaseURL, ClientID: c.spec.ClientID,
		ClientSecret: secret, MaxRetries: c.spec.MaxRetries})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Close implements plugin.SourceClient.
func (*SourceClient) Close(context.Context) error { return nil }

// errHeaderRead stops a run once its header has been read.
var errHeaderRead = errors.New("header read")

// Tables reads each selected table's header (fields, pivots) and aborts the
// download there, so no data is read. The result is cached for the process.
func (c *SourceClient) Tables(ctx context.Context, opts plugin.TableOptions) (schema.Tables, error) {
	if c.api == nil {
		return schema.Tables{}, nil
	}
	var out schema.Tables
	for _, ts := range c.selected(opts.Tables, opts.SkipTables) {
		t, err := c.table(ctx, ts)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (c *SourceClient) selected(include, skip []string) []TableSpec {
	if len(include) == 0 {
		include = []string{"*"}
	}
	var out []TableSpec
	for _, ts := range c.spec.Tables {
		if plugin.MatchesTable(ts.Name, include, skip) {
			out = append(out, ts)
		}
	}
	return out
}

func (c *SourceClient) table(ctx context.Context, ts TableSpec) (*schema.Table, error) {
	c.mu.Lock()
	t, ok := c.tables[ts.Name]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	body, err := c.run(ctx, ts)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	err = DecodeJSONDetail(body, Handler{OnHeader: func(h *Header) error {
		cols, err := Columns(h)
		if err != nil {
			return err
		}
		t = cqTable(ts, cols)
		return errHeaderRead
	}})
	if !errors.Is(err, errHeaderRead) {
		if err == nil {
			err = errors.New("result has no fields")
		}
		return nil, fmt.Errorf("describing table %s: %w", ts.Name, err)
	}
	c.mu.Lock()
	c.tables[ts.Name] = t
	c.mu.Unlock()
	return t, nil
}

func (c *SourceClient) run(ctx context.Context, ts TableSpec) (io.ReadCloser, error) {
	if ts.Query != nil {
		q := ts.Query.apiQuery()
		q.Limit = string(ts.Query.Limit.orAll())
		return c.api.RunQuery(ctx, q)
	}
	return c.api.RunLook(ctx, ts.LookID, string(ts.Limit.orAll()))
}

// cqTable describes the columns as a CloudQuery table. Column tags cannot
// ride on schema.Column, so they are added to each record's schema instead.
func cqTable(ts TableSpec, cols []Column) *schema.Table {
	t := &schema.Table{Name: ts.Name, Description: describe(ts)}
	for _, col := range cols {
		t.Columns = append(t.Columns, schema.Column{Name: col.Name, Type: col.Type, Description: col.Field.Label})
	}
	return t
}

func describe(ts TableSpec) string {
	if ts.Query != nil {
		return fmt.Sprintf("Looker query %s/%s", ts.Query.Model, ts.Query.View)
	}
	return fmt.Sprintf("Looker Look %d", ts.LookID)
}

// Sync runs each selected Look or query once and streams its rows as records; the table comes from
// the same run's header. A panic is recovered into an error naming the table and row.
func (c *SourceClient) Sync(ctx context.Context, opts plugin.SyncOptions, res chan<- message.SyncMessage) (err error) {
	if c.api == nil {
		return errors.New("looker source has no connection")
	}
	where := "starting"
	defer sourceerr.Recover(&err, func() string { return where }, c.logStack)
	for _, ts := range c.selected(opts.Tables, opts.SkipTables) {
		where = "syncing table " + ts.Name
		if err := c.syncTable(ctx, ts, res); err != nil {
			return fmt.Errorf("syncing table %s: %w", ts.Name, err)
		}
	}
	return nil
}

func (c *SourceClient) logStack(stack []byte) {
	c.logger.Error().Bytes("stack", stack).Msg("recovered from a panic")
}

func (c *SourceClient) syncTable(ctx context.Context, ts TableSpec, res chan<- message.SyncMessage) (err error) {
	var rw *RecordWriter
	defer sourceerr.Recover(&err, func() string {
		var rows int64
		if rw != nil {
			rows = rw.Rows()
		}
		return fmt.Sprintf("reading table %s after row %d", ts.Name, rows)
	}, c.logStack)
	body, err := c.run(ctx, ts)
	if err != nil {
		return err
	}
	defer body.Close()
	send := func(m message.SyncMessage) error {
		select {
		case res <- m:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err = DecodeJSONDetail(body, Handler{
		OnHeader: func(h *Header) error {
			cols, err := Columns(h)
			if err != nil {
				return err
			}
			loc, err := ts.location(h)
			if err != nil {
				return sourceerr.Config(err)
			}
			// The table comes from this run's header: a pivoted Look can
			// gain or lose pivot columns between Tables and Sync.
			t := cqTable(ts, cols)
			if err := send(&message.SyncMigrateTable{Table: t}); err != nil {
				return err
			}
			sc := TaggedSchema(t.ToArrowSchema(), cols)
			rw = NewRecordWriter(cols, sc, loc, c.spec.RowsPerRecord, func(rec arrow.Record) error {
				return send(&message.SyncInsert{Record: rec})
			})
			return nil
		},
		OnRow: func(r Row) error {
			if err := rw.Append(r); err != nil {
				return sourceerr.Config(err) // a cell that is not its field's type: the Look must change
			}
			return nil
		},
	})
	if rw != nil {
		defer rw.Release()
	}
	if err == nil && rw != nil {
		err = rw.Flush()
	}
	if err != nil {
		return decodeError(err)
	}
	c.logger.Info().Str("table", ts.Name).Int64("rows", rw.Rows()).Msg("table synced")
	c.warnAtLimit(ts, rw.Rows())
	return nil
}

// decodeError classifies a failure while reading a result: Looker's own query errors and
// documents past the decoder's limits are the Look's to fix; a stream that broke may pass.
func decodeError(err error) error {
	var qe *QueryError
	var le *LimitError
	if errors.As(err, &qe) || errors.As(err, &le) {
		return sourceerr.Config(err)
	}
	return sourceerr.Retryable(err)
}

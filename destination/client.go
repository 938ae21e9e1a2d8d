package destination

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/report"
)

// Client is the CloudQuery destination client, so that `cloudquery sync` can run braze-destination.
// It owns its write loop instead of using plugin-sdk's batchwriter, which only logs its handler's
// errors (STYLE.md, "What to avoid" 1): here a failed write fails the sync.
type Client struct {
	plugin.UnimplementedSource
	spec   *Spec
	log    zerolog.Logger
	writer *Writer
}

// Assert at compile time that Client is a CloudQuery plugin client.
var _ plugin.Client = (*Client)(nil)

// New is the plugin's NewClientFunc: parse and validate the spec, and check the key (unless the
// CLI only wants docs or the schema, NoConnection).
func New(ctx context.Context, log zerolog.Logger, specJSON []byte, opts plugin.NewClientOptions) (plugin.Client, error) {
	c := &Client{log: log.With().Str("module", "braze-destination").Logger()}
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

// Write consumes one CloudQuery write stream: every insert is converted and sent, DeleteStale ends
// a table, MigrateTable is ignored (Braze has no schema to migrate). It returns when every row is
// accounted for, so the CLI's sync ends with Braze's answers in hand.
func (c *Client) Write(ctx context.Context, msgs <-chan message.WriteMessage) error {
	s, err := Open(ctx, c.spec, c.log, report.NewRunID("", time.Now()))
	if err != nil {
		return err
	}
	var werr error
	for msg := range msgs {
		if werr != nil {
			continue // drain, so the SDK's sender never blocks
		}
		switch m := msg.(type) {
		case *message.WriteInsert:
			werr = s.Insert(ctx, m.Record)
		case *message.WriteDeleteStale:
			s.DeleteStale(m.TableName)
		case *message.WriteMigrateTable, *message.WriteDeleteRecord:
		default:
			werr = fmt.Errorf("unsupported write message %T", msg)
		}
	}
	_, err = s.Finish(ctx, werr)
	return err
}

// Tables lists none: a destination has no tables of its own. plugin-sdk's `doc` command asks.
func (*Client) Tables(context.Context, plugin.TableOptions) (cqschema.Tables, error) {
	return cqschema.Tables{}, nil
}

// Read is not supported: Braze has no bulk read-back for what a sync wrote.
func (*Client) Read(context.Context, *cqschema.Table, chan<- arrow.Record) error {
	return plugin.ErrNotImplemented
}

// Close has nothing to release: each Write owns its writer.
func (*Client) Close(context.Context) error { return nil }

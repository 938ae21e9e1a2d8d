package runner

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/cloudquery/plugin-pb-go/managedplugin"
	pbcq "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
	"github.com/rs/zerolog"
)

// source is a running CloudQuery source plugin, launched the way the CloudQuery CLI launches it
// (`<path> serve --network unix …`, logs read from its stdout: sourceproc.go), so that any
// CloudQuery source plugin can feed brazesync, not only ours. A `registry: grpc` source is one
// already serving, reached through managedplugin as the CLI reaches it.
type source struct {
	spec *SourceSpec
	proc *sourceProc           // a local plugin this runner started
	mp   *managedplugin.Client // a grpc one
	rpc  pbcq.PluginClient
	errs *sourceErrors // the error lines of its log, by table (mirror.go)
}

// ErrPlugin marks a plugin that could not be started or failed while running: exit code 4.
var ErrPlugin = errors.New("plugin failed")

func startSource(ctx context.Context, spec *SourceSpec, log zerolog.Logger) (*source, error) {
	slog := log.With().Str("source", spec.Name).Logger()
	errs := newSourceErrors(slog)
	s := &source{spec: spec, errs: errs}
	var err error
	if spec.Registry == "grpc" {
		s.mp, err = managedplugin.NewClient(ctx, managedplugin.PluginSource,
			managedplugin.Config{Name: spec.Name, Registry: managedplugin.RegistryGrpc, Path: spec.Path},
			managedplugin.WithLogger(errs.logger()), managedplugin.WithNoSentry())
		if err == nil {
			s.rpc = pbcq.NewPluginClient(s.mp.Conn)
		}
	} else {
		s.proc, err = startSourceProc(ctx, spec.Path, childEnv(spec.Spec), slog.GetLevel(), errs, slog)
		if err == nil {
			s.rpc = pbcq.NewPluginClient(s.proc.conn)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: source %q (%s): %w", ErrPlugin, spec.Name, spec.Path, err)
	}
	return s, nil
}

// init sends the source's spec; a bad spec is the plugin's to report.
func (s *source) init(ctx context.Context, runID string) error {
	specJSON, err := SpecJSON(s.spec.Spec)
	if err != nil {
		return fmt.Errorf("%w: source %q: encoding spec: %w", ErrConfig, s.spec.Name, err)
	}
	if _, err := s.rpc.Init(ctx, &pbcq.Init_Request{Spec: specJSON, InvocationId: runID}); err != nil {
		return s.failure(ctx, "init", err)
	}
	return nil
}

// syncEvent is one message of a source's sync: a record to insert, or a table's schema announced.
type syncEvent struct {
	record arrow.Record
	table  string // set for a migrate-table message
}

// sync streams the source's tables. It calls fn for each record and each announced table, in order;
// fn's error stops the sync.
func (s *source) sync(ctx context.Context, fn func(syncEvent) error) error {
	req := &pbcq.Sync_Request{Tables: s.spec.Tables, SkipTables: s.spec.SkipTables,
		DeterministicCqId: s.spec.DeterministicCQID}
	if s.spec.SkipDependentTables != nil {
		req.SkipDependentTables = *s.spec.SkipDependentTables
	}
	stream, err := s.rpc.Sync(ctx, req)
	if err != nil {
		return s.failure(ctx, "starting sync", err)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return s.failure(ctx, "sync", err)
		}
		if err := s.handle(msg, fn); err != nil {
			return err
		}
	}
}

func (s *source) handle(msg *pbcq.Sync_Response, fn func(syncEvent) error) error {
	switch m := msg.Message.(type) {
	case *pbcq.Sync_Response_Insert:
		rec, err := pbcq.NewRecordFromBytes(m.Insert.Record)
		if err != nil {
			return fmt.Errorf("%w: source %q sent a record that is not Arrow IPC: %w", ErrPlugin, s.spec.Name, err)
		}
		if rec == nil {
			return nil
		}
		defer rec.Release()
		return fn(syncEvent{record: rec})
	case *pbcq.Sync_Response_MigrateTable:
		sc, err := pbcq.NewSchemaFromBytes(m.MigrateTable.Table)
		if err != nil {
			return fmt.Errorf("%w: source %q sent a table that is not Arrow IPC: %w", ErrPlugin, s.spec.Name, err)
		}
		return fn(syncEvent{table: tableNameOf(sc)})
	}
	return nil // delete-record messages: Braze has nothing to delete by predicate
}

func (s *source) close() error {
	switch {
	case s.proc != nil:
		return s.proc.terminate()
	case s.mp != nil:
		return s.mp.Terminate()
	}
	return nil
}

package destination

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/destination/state/snowflakestate"
	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/source/sourceerr"
)

// openStateStore opens the backend state.backend names for destination name: what its runs, and
// state show and reset, open. The local folder opens read-only for a dry run; as the warehouse's
// working copy it opens writable, since it is brought up to date from the warehouse first (a dry
// run still commits nothing, so nothing is uploaded). The warehouse's import and take-over go to
// tally; its uploads, at Close.
func openStateStore(name string, spec *Spec, runID string, log zerolog.Logger, tally *report.Tally) (State, error) {
	warehouse := spec.State.Backend == BackendSnowflake
	local, err := state.Open(spec.StateDir, state.Options{RunID: runID, ReadOnly: spec.DryRun && !warehouse, Log: log})
	if err != nil {
		return nil, err
	}
	if !warehouse {
		return local, nil
	}
	cfg, err := warehouseConfig(name, spec, runID, log)
	if err != nil {
		_ = local.Close()
		return nil, err
	}
	st, err := snowflakestate.Open(context.Background(), local, cfg)
	if err != nil {
		return nil, openError(spec.State.Connection, err)
	}
	tally.Update(func(r *report.Report) {
		r.StateImported = st.Stats().Imported
		if h := st.Stats().TookOver; h != nil {
			r.Notes = append(r.Notes, "took over the warehouse state's lock from "+h.String()+
				": that run stopped without releasing it; what it sent but did not upload is sent again")
		}
	})
	return &warehouseState{Store: st, local: local, tally: tally}, nil
}

// warehouseConfig is the warehouse state's configuration from the spec's state block.
func warehouseConfig(name string, spec *Spec, runID string, log zerolog.Logger) (snowflakestate.Config, error) {
	drv, err := snowflake.DriverConfig(spec.State.Connection)
	if err != nil {
		return snowflakestate.Config{}, fmt.Errorf("state: %w", err)
	}
	return snowflakestate.Config{Driver: drv, Database: spec.State.Database, Schema: spec.State.Schema, Destination: name,
		RunID: runID, LockTimeout: spec.State.lockTimeout(), Pushdown: pushdownSettings(name, spec), Log: log}, nil
}

// InspectState looks at the warehouse state of the destination called name (state.backend:
// snowflake) without taking its lock or writing anything: brazesync check.
func InspectState(ctx context.Context, name string, spec *Spec) (snowflakestate.Inspection, error) {
	cfg, err := warehouseConfig(name, spec, "", zerolog.Nop())
	if err != nil {
		return snowflakestate.Inspection{}, err
	}
	in, err := snowflakestate.Inspect(ctx, cfg)
	if err != nil {
		return in, snowflake.ExplainError(spec.State.Connection, "reading the warehouse state", err)
	}
	return in, nil
}

// openError explains why the warehouse state did not open, as the Snowflake source explains its
// own login and SQL errors, and classes it for the exit code: a held lock, refused credentials or
// missing objects are the spec's to fix (stateError, like a state folder in use); an unreachable
// Snowflake may pass on a later run. The source's gRPC classes stay out of it: to the runner this
// is the destination's error.
func openError(conn snowflake.Connection, err error) error {
	if errors.Is(err, state.ErrLocked) {
		return stateError{err}
	}
	explained := snowflake.ExplainError(conn, "opening the warehouse state", err)
	plain := errors.New(explained.Error())
	switch sourceerr.Code(explained) {
	case codes.InvalidArgument, codes.Unauthenticated, codes.PermissionDenied, codes.NotFound, codes.FailedPrecondition:
		return stateError{plain}
	}
	return plain
}

// pushdownSettings are the mapping settings the Snowflake source's diff pushdown reads from the
// lock row (package layout): this run's, recorded before any source runs.
func pushdownSettings(name string, spec *Spec) layout.Pushdown {
	p := layout.Pushdown{Destination: name, Endpoint: endpointHost(spec.Endpoint), Config: spec.Config,
		ExportAttribute: *spec.ExportAttribute, RefreshAfterSeconds: int64(spec.refreshAfter().Seconds())}
	if p.ExportAttribute != "" {
		p.ExportValue = spec.ExportValue
	}
	if spec.FullRefresh {
		p.Disabled = "full refresh: every attribute is sent"
	}
	p.Mirror = spec.Mirror // mirror mode needs every key: pushdown would hide unchanged users (docs/mirror.md)
	return p
}

// warehouseState is the warehouse backend as the writer holds it: Close reports what moved.
type warehouseState struct {
	*snowflakestate.Store
	local *state.Local
	tally interface{ Update(func(*report.Report)) }
}

func (s *warehouseState) DiskBytes() uint64 { return s.local.DiskBytes() }

func (s *warehouseState) Close() error {
	err := s.Store.Close()
	st := s.Stats()
	s.tally.Update(func(r *report.Report) { r.StateUploaded, r.StateVersion = st.Uploaded, st.Version })
	return err
}

package destination

import (
	"errors"
	"fmt"
	"time"

	"github.com/brazesync/brazesync/destination/state/snowflakestate"
	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
	"github.com/brazesync/brazesync/source/snowflake"
)

// State backends, selected by state.backend.
const (
	// BackendLocal keeps the state in state_dir only. The default.
	BackendLocal = "local"
	// BackendSnowflake keeps it in Snowflake, with state_dir as the working copy, so runs on
	// machines that keep no disk between runs behave as one machine (docs/state-snowflake.md).
	BackendSnowflake = "snowflake"
)

// StateSpec is the destination spec's `state:` block: where the sync state lives. With backend
// snowflake it holds its own Snowflake connection (the Snowflake source's fields and
// authenticators: key pair, OAuth, password) and the database and schema of brazesync's tables.
type StateSpec struct {
	// Where the sync state lives: local (state_dir only) or snowflake (brazesync's tables in
	// Snowflake, state_dir as the working copy).
	Backend string `json:"backend,omitempty" jsonschema:"enum=local,enum=snowflake"`
	snowflake.Connection
	// Database holding brazesync's tables (backend snowflake; required).
	Database string `json:"database,omitempty"`
	// Schema holding brazesync's tables, created if absent (backend snowflake: default BRAZESYNC).
	Schema string `json:"schema,omitempty"`
	// How long the lock of a run that stopped without releasing it (killed, cut off) blocks the
	// next run, as a Go duration (backend snowflake: default 10m). A running run renews it every
	// quarter of this.
	LockTimeout string `json:"lock_timeout,omitempty"`
}

// SetDefaults fills the backend, and for snowflake the schema and lock timeout.
func (s *StateSpec) SetDefaults() {
	if s.Backend == "" {
		s.Backend = BackendLocal
	}
	if s.Backend != BackendSnowflake {
		return
	}
	if s.Schema == "" {
		s.Schema = layout.DefaultSchema
	}
	if s.LockTimeout == "" {
		s.LockTimeout = snowflakestate.DefaultLockTimeout.String()
	}
}

// validate checks the block without any I/O; errors name the field under state.
func (s *StateSpec) validate(diff bool) error {
	switch s.Backend {
	case BackendLocal:
		if s.Connection != (snowflake.Connection{}) || s.Database != "" || s.Schema != "" || s.LockTimeout != "" {
			return errors.New("state: connection, database, schema and lock_timeout are for backend: snowflake")
		}
		return nil
	case BackendSnowflake:
	default:
		return fmt.Errorf("state.backend: %q is not one of local, snowflake", s.Backend)
	}
	var errs []error
	if !diff {
		errs = append(errs, errors.New("state.backend: snowflake keeps the diff's state, but diff is false"))
	}
	if err := s.Connection.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("state: %w", err))
	}
	if s.Database == "" {
		errs = append(errs, errors.New("state.database: required with backend snowflake (the database holding brazesync's tables)"))
	}
	if d, err := time.ParseDuration(s.LockTimeout); err != nil || d < time.Minute {
		errs = append(errs, fmt.Errorf("state.lock_timeout: %q is not a duration of at least 1m, such as 10m", s.LockTimeout))
	}
	return errors.Join(errs...)
}

func (s *StateSpec) lockTimeout() time.Duration { d, _ := time.ParseDuration(s.LockTimeout); return d }

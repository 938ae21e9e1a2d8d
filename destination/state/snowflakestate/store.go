// Package snowflakestate keeps the destination's state in Snowflake, so a run on a machine with no
// disk of its own (a Kubernetes pod, a Celery worker that changes from run to run) behaves exactly
// as a run on the machine that ran last.
//
// The embedded store (state.Local) stays the working copy: the writer looks users up and commits
// to it as usual. Open takes the destination's lock row in Snowflake, then brings the local copy up
// to date with what changed in the warehouse since the version the copy last saw (streamed as
// Arrow batches). Close uploads what the local copy committed since it was last in step, in bulk
// (array-bound INSERTs of versioned rows), makes the new version visible with one UPDATE of the
// lock row, and releases the lock. A run killed before that UPDATE leaves the warehouse at the
// previous run: the next run, from any machine, re-sends what that older state implies.
//
// The tables (package layout, docs/state-snowflake.md) hold user keys, attribute names, 8-byte
// hashes, times and event identities: never attribute values or event contents, never
// credentials. Event identities are the one thing written during the run (events.go).
package snowflakestate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
)

// Defaults of Config.
const (
	DefaultLockTimeout = 10 * time.Minute
	heartbeatsPerTTL   = 4
)

// Config configures Open.
type Config struct {
	// Driver is the connection (snowflake.DriverConfig builds it from the state spec). The tables
	// are always named in full, so its Database and Schema do not matter.
	Driver *sf.Config
	// Database and Schema hold brazesync's tables; Schema is created if absent (layout.DefaultSchema
	// when empty).
	Database, Schema string
	// Destination is the destination's name: the lock, the version and the namespaces are its own.
	Destination string
	// RunID names this run in the lock row and as each namespace's last run.
	RunID string
	// LockTimeout is how long the lock outlives the last heartbeat of a run that stopped without
	// releasing it (killed, or cut off from Snowflake). Default DefaultLockTimeout.
	LockTimeout time.Duration
	// Heartbeat is how often the lock is renewed (default LockTimeout/4).
	Heartbeat time.Duration
	// Pushdown is recorded in the lock row at Open, for the Snowflake source's diff pushdown.
	Pushdown layout.Pushdown
	// Log receives progress and warnings (never keys or values).
	Log zerolog.Logger
}

// Local is the working copy: the embedded store, its event identities and its folder.
type Local interface {
	state.Store
	Events(ctx context.Context, ns state.Namespace) (state.Events, error)
	CountEvents(ctx context.Context, ns state.Namespace) (state.EventCounts, error)
	ImportEvents(ctx context.Context, ns state.Namespace, marks []state.EventMark) error
	Dir() string
}

// Stats says what a run moved between the warehouse and the local copy.
type Stats struct {
	// Imported is the records the local copy took from the warehouse at Open.
	Imported int64
	// Uploaded is the records Close wrote to the warehouse.
	Uploaded int64
	// Version is the warehouse state's version after Open, and after Close once it uploaded.
	Version uint64
	// TookOver names the run whose expired lock this run took over, if any.
	TookOver *Holder
}

// Store is the warehouse backend: a state.Store over the local copy.
type Store struct {
	cfg   Config
	local Local
	db    *sql.DB
	names tables
	lock  *lock

	// base is the warehouse version the local copy matches after Open (the version uploads
	// build on); mark is the local sync marker.
	base    uint64
	mark    marker
	marks   eventMarks    // event outcomes not yet flushed to the warehouse
	pending pendingWrites // pending event identities being inserted
	// lastRuns is each namespace's LAST_RUN at Open: the run that last committed to it from any
	// machine, which this folder's copy may not know.
	lastRuns map[state.Namespace]string

	flushStop, flushDone chan struct{} // flushSettled's

	mu        sync.Mutex
	stats     Stats
	closeOnce sync.Once
	closeErr  error
}

// Assert at compile time that Store is a state.Store.
var _ state.Store = (*Store)(nil)

// Open connects, creates brazesync's schema and tables if absent, takes the destination's lock
// and brings local up to date. It takes ownership of local: Close closes it, and so does a failed
// Open. A lock held by a live run fails with a *LockedError naming it.
func Open(ctx context.Context, local Local, cfg Config) (*Store, error) {
	if err := cfg.setDefaults(); err != nil {
		_ = local.Close()
		return nil, err
	}
	s := &Store{cfg: cfg, local: local, names: newTables(cfg.Database, cfg.Schema)}
	if err := s.open(ctx); err != nil {
		if s.lock != nil {
			s.lock.release(context.Background())
		}
		if s.db != nil {
			_ = s.db.Close()
		}
		_ = local.Close()
		return nil, err
	}
	return s, nil
}

func (c *Config) setDefaults() error {
	if c.Driver == nil || c.Database == "" || c.Destination == "" {
		return errors.New("opening the warehouse state: the connection, database and destination name are required")
	}
	if c.Schema == "" {
		c.Schema = layout.DefaultSchema
	}
	if c.LockTimeout <= 0 {
		c.LockTimeout = DefaultLockTimeout
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = c.LockTimeout / heartbeatsPerTTL
	}
	return nil
}

func (s *Store) open(ctx context.Context) error {
	drv := *s.cfg.Driver
	if drv.Params == nil {
		drv.Params = map[string]*string{} // the driver panics on a nil map
	}
	s.db = sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, drv))
	s.db.SetMaxOpenConns(uploadConcurrency + 1) // the upload's INSERTs, beside the heartbeat
	if err := s.createTables(ctx); err != nil {
		return err
	}
	host, _ := os.Hostname()
	lk, tookOver, err := acquire(ctx, s.db, s.names, s.cfg, host)
	if err != nil {
		return err
	}
	s.lock = lk
	s.stats.TookOver = tookOver
	if tookOver != nil {
		s.cfg.Log.Warn().Str("previous_run", tookOver.RunID).Str("previous_host", tookOver.Host).
			Time("last_heartbeat", tookOver.Heartbeat).Time("expired_at", tookOver.Expires).
			Msg("warehouse state: took over the lock of a run that stopped without releasing it (killed, or cut off from Snowflake); what it sent but did not upload is sent again")
	}
	if err := s.recordPushdown(ctx); err != nil {
		return err
	}
	if err := s.catchUp(ctx); err != nil {
		return err
	}
	s.flushStop, s.flushDone = make(chan struct{}), make(chan struct{})
	go s.flushSettled(s.flushStop, s.flushDone)
	return nil
}

// holds refuses a namespace of another destination: the lock, the version and the tables' rows
// are this destination's.
func (s *Store) holds(ns state.Namespace) error {
	if ns.Destination != s.cfg.Destination {
		return fmt.Errorf("warehouse state of destination %q cannot hold namespace %s", s.cfg.Destination, ns)
	}
	return nil
}

// Space opens a namespace of the local copy. Commits go to the local copy; Close uploads them.
// A run that lost its lock to another run may not commit: that run owns the state now.
func (s *Store) Space(ctx context.Context, ns state.Namespace) (state.Space, error) {
	if err := s.holds(ns); err != nil {
		return nil, err
	}
	sp, err := s.local.Space(ctx, ns)
	if err != nil {
		return nil, err
	}
	return &space{Space: sp, lock: s.lock}, nil
}

// CountEvents counts the local copy's identities of ns, which Open brought up to date.
func (s *Store) CountEvents(ctx context.Context, ns state.Namespace) (state.EventCounts, error) {
	return s.local.CountEvents(ctx, ns)
}

// Version is the local copy's version.
func (s *Store) Version() uint64 { return s.local.Version() }

// Namespaces describes the local copy's namespaces, which Open brought up to date. A namespace this
// run has not committed to names the warehouse's last run, without a time (the warehouse keeps
// none): the copy's own may be an older run on this machine, or none at all.
func (s *Store) Namespaces(ctx context.Context) ([]state.Info, error) {
	infos, err := s.local.Namespaces(ctx)
	if err != nil {
		return nil, err
	}
	for i := range infos {
		in := &infos[i]
		if last, ok := s.lastRuns[in.Namespace]; ok && in.LastRun != s.cfg.RunID && last != in.LastRun {
			in.LastRun, in.LastCommit = last, 0
		}
	}
	return infos, nil
}

// Stats reports what the run imported and uploaded so far.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Close uploads what this run committed, releases the lock and closes the local copy. After a
// failed upload the lock is released all the same, and the warehouse stays at its last version:
// the next run re-sends what this one sent (the error says so).
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		ctx := context.Background()
		var errs []error
		close(s.flushStop)
		<-s.flushDone
		if err := s.upload(ctx); err != nil {
			errs = append(errs, err)
		}
		s.lock.release(ctx)
		if err := s.db.Close(); err != nil {
			s.cfg.Log.Debug().Err(err).Msg("closing the warehouse connection")
		}
		if err := s.local.Close(); err != nil {
			errs = append(errs, err)
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// space is a namespace of the local copy whose commits stop once the lock is lost.
type space struct {
	state.Space
	lock *lock
}

func (sp *space) Commit(ctx context.Context, updates []state.Update) error {
	if err := sp.lock.lost(); err != nil {
		return err
	}
	return sp.Space.Commit(ctx, updates)
}

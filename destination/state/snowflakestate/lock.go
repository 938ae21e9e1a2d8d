package snowflakestate

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/state"
)

// Holder is the run holding (or last holding) a destination's lock, as its lock row says. Times
// are Snowflake's clock, so machines with skewed clocks agree on when a lock expires.
type Holder struct {
	RunID     string    `json:"run_id"`
	Host      string    `json:"host,omitempty"`
	PID       int       `json:"pid,omitempty"`
	Since     time.Time `json:"since"`
	Heartbeat time.Time `json:"heartbeat"`
	Expires   time.Time `json:"expires"`
}

func (h Holder) String() string {
	s := "run " + h.RunID
	if h.Host != "" || h.PID != 0 {
		s += fmt.Sprintf(" (pid %d on %s)", h.PID, h.Host)
	}
	return s + " since " + h.Since.UTC().Format(time.RFC3339) + ", last heartbeat " + h.Heartbeat.UTC().Format(time.RFC3339)
}

// LockedError is returned by Open when a live run holds the destination's warehouse state.
type LockedError struct {
	Destination string
	Table       string // the lock table, fully qualified
	Holder      Holder
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("the warehouse state of destination %q (%s) is in use by %s: two runs on one state would each "+
		"send what the other already sent; wait for it to end. If that run is gone (killed, its machine lost), its lock "+
		"expires at %s and the next run takes it over",
		e.Destination, e.Table, e.Holder, e.Holder.Expires.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, state.ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == state.ErrLocked }

// lock is this run's hold on the lock row, renewed by a heartbeat until release.
type lock struct {
	db      *sql.DB
	names   tables
	dest    string
	runID   string
	ttl     time.Duration
	log     zerolog.Logger
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	lostBy  error     // set once another run took the lock over
	renewed time.Time // the last successful renewal, by this machine's clock
	once    sync.Once
}

// readHolder reads the lock row: ok is false when there is none or nobody holds it; now is
// Snowflake's current time.
func readHolder(ctx context.Context, db *sql.DB, names tables, dest string) (h Holder, held bool, now time.Time, err error) {
	var run, host sql.NullString
	var pid sql.NullInt64
	var since, beat, exp sql.NullTime
	row := db.QueryRowContext(ctx, "SELECT RUN_ID, HOST, PID, ACQUIRED_AT, HEARTBEAT_AT, EXPIRES_AT, CURRENT_TIMESTAMP() AS NOW FROM "+
		names.locks+" WHERE DESTINATION = ?", dest)
	err = row.Scan(&run, &host, &pid, &since, &beat, &exp, &now)
	if err == sql.ErrNoRows {
		return h, false, now, nil
	}
	if err != nil {
		return h, false, now, explain("reading the warehouse state's lock", err)
	}
	h = Holder{RunID: run.String, Host: host.String, PID: int(pid.Int64), Since: since.Time, Heartbeat: beat.Time, Expires: exp.Time}
	return h, run.Valid && run.String != "", now, nil
}

// acquireSQL takes the lock row when it is free, or when its holder is the expired run the caller
// saw (PREV): a compare-and-swap, which Snowflake serializes with every other MERGE on the table.
const acquireSQL = `MERGE INTO %s t
USING (SELECT ? AS DESTINATION, ? AS RUN_ID, ? AS HOST, ? AS PID, ? AS TTL, ? AS PREV) s
ON t.DESTINATION = s.DESTINATION
WHEN MATCHED AND (t.RUN_ID IS NULL OR (t.RUN_ID = s.PREV AND t.EXPIRES_AT < CURRENT_TIMESTAMP())) THEN UPDATE SET
  RUN_ID = s.RUN_ID, HOST = s.HOST, PID = s.PID, ACQUIRED_AT = CURRENT_TIMESTAMP(), HEARTBEAT_AT = CURRENT_TIMESTAMP(),
  EXPIRES_AT = DATEADD(second, s.TTL, CURRENT_TIMESTAMP())
WHEN NOT MATCHED THEN INSERT (DESTINATION, RUN_ID, HOST, PID, ACQUIRED_AT, HEARTBEAT_AT, EXPIRES_AT, VERSION, COMPACTED_VERSION)
  VALUES (s.DESTINATION, s.RUN_ID, s.HOST, s.PID, CURRENT_TIMESTAMP(), CURRENT_TIMESTAMP(), DATEADD(second, s.TTL, CURRENT_TIMESTAMP()), 0, 0)`

// acquire takes the destination's lock and starts its heartbeat. tookOver names the expired run
// it replaced, if any.
func acquire(ctx context.Context, db *sql.DB, names tables, cfg Config, host string) (*lock, *Holder, error) {
	prev, held, now, err := readHolder(ctx, db, names, cfg.Destination)
	if err != nil {
		return nil, nil, err
	}
	if held && !prev.Expires.Before(now) {
		return nil, nil, &LockedError{Destination: cfg.Destination, Table: names.locks, Holder: prev}
	}
	var prevRun any
	if held {
		prevRun = prev.RunID
	}
	ttl := int64(cfg.LockTimeout / time.Second)
	if _, err := db.ExecContext(ctx, fmt.Sprintf(acquireSQL, names.locks), cfg.Destination, cfg.RunID, host, int64(os.Getpid()), ttl, prevRun); err != nil {
		return nil, nil, explain("taking the warehouse state's lock", err)
	}
	got, _, _, err := readHolder(ctx, db, names, cfg.Destination)
	if err != nil {
		return nil, nil, err
	}
	if got.RunID != cfg.RunID {
		return nil, nil, &LockedError{Destination: cfg.Destination, Table: names.locks, Holder: got}
	}
	l := &lock{db: db, names: names, dest: cfg.Destination, runID: cfg.RunID, ttl: cfg.LockTimeout, log: cfg.Log,
		stop: make(chan struct{}), done: make(chan struct{}), renewed: time.Now()}
	go l.heartbeat(cfg.Heartbeat)
	var tookOver *Holder
	if held {
		tookOver = &prev
	}
	return l, tookOver, nil
}

// heartbeat renews the lock every period. A renewal that finds the row taken by another run
// marks the lock lost; one that fails (Snowflake unreachable) is retried at the next tick.
func (l *lock) heartbeat(period time.Duration) {
	defer close(l.done)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), period)
		l.beat(ctx)
		cancel()
		if l.lost() != nil {
			return
		}
	}
}

// beat renews the lock once: a renewal that finds the row taken by another run marks the lock
// lost; one that fails (Snowflake unreachable) is retried at the next heartbeat.
func (l *lock) beat(ctx context.Context) {
	n, err := l.renew(ctx)
	switch {
	case err != nil:
		l.log.Warn().Err(err).Msg("warehouse state: renewing the lock failed; retrying at the next heartbeat")
	case n == 0:
		l.markLost(ctx)
	default:
		l.mu.Lock()
		l.renewed = time.Now()
		l.mu.Unlock()
	}
}

func (l *lock) renew(ctx context.Context) (int64, error) {
	res, err := l.db.ExecContext(ctx, "UPDATE "+l.names.locks+" SET HEARTBEAT_AT = CURRENT_TIMESTAMP(), "+
		"EXPIRES_AT = DATEADD(second, ?, CURRENT_TIMESTAMP()) WHERE DESTINATION = ? AND RUN_ID = ?",
		int64(l.ttl/time.Second), l.dest, l.runID)
	if err != nil {
		return 0, explain("renewing the warehouse state's lock", err)
	}
	return res.RowsAffected()
}

// markLost records that another run holds the lock now, naming it.
func (l *lock) markLost(ctx context.Context) {
	h, held, _, err := readHolder(ctx, l.db, l.names, l.dest)
	who := "another run"
	if err == nil && held {
		who = h.String()
	}
	l.mu.Lock()
	if l.lostBy == nil {
		l.lostBy = fmt.Errorf("%w to %s: this run's heartbeats did not reach Snowflake for %s; it stops committing, and what it sent is sent again by a later run",
			ErrLockLost, who, l.ttl)
	}
	err = l.lostBy
	l.mu.Unlock()
	l.log.Error().Err(err).Msg("warehouse state")
}

// lost returns the error that the lock was lost, or nil while it is held. When no renewal
// succeeded for a whole lock timeout, another run may have taken the lock: it renews first, to know.
func (l *lock) lost() error {
	l.mu.Lock()
	stale := l.lostBy == nil && time.Since(l.renewed) > l.ttl
	l.mu.Unlock()
	if stale {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		l.beat(ctx)
		cancel()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lostBy
}

// bumpVersion makes version to the state's version, if the lock is still this run's and the
// version still from: the one statement that commits an upload.
func (l *lock) bumpVersion(ctx context.Context, from, to uint64, compacted bool) error {
	set := "VERSION = ?"
	if compacted {
		set += ", COMPACTED_VERSION = ?"
	}
	args := []any{int64(to)}
	if compacted {
		args = append(args, int64(to))
	}
	args = append(args, l.dest, l.runID, int64(from))
	res, err := l.db.ExecContext(ctx, "UPDATE "+l.names.locks+" SET "+set+" WHERE DESTINATION = ? AND RUN_ID = ? AND VERSION = ?", args...)
	if err != nil {
		return explain("committing the warehouse state's new version", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		l.markLost(ctx)
		return l.lost()
	}
	return nil
}

// release stops the heartbeat and frees the lock row, if it is still this run's.
func (l *lock) release(ctx context.Context) {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		if l.lost() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, err := l.db.ExecContext(ctx, "UPDATE "+l.names.locks+" SET RUN_ID = NULL, HOST = NULL, PID = NULL, EXPIRES_AT = NULL, "+
			"HEARTBEAT_AT = CURRENT_TIMESTAMP() WHERE DESTINATION = ? AND RUN_ID = ?", l.dest, l.runID)
		if err != nil {
			l.log.Warn().Err(explain("releasing the warehouse state's lock", err)).Msg("warehouse state: the lock expires by itself")
		}
	})
}

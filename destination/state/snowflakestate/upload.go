package snowflakestate

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
)

// uploadRows is how many state rows one INSERT carries. gosnowflake sends an array binding in the
// request body below CLIENT_STAGE_ARRAY_BINDING_THRESHOLD values (65,280 by default) and through a
// stage upload above it; seven columns × 9,000 rows stays in the body, one round trip per batch.
const uploadRows = 9000

// rowBatch is state rows in column arrays, for one array-bound INSERT. addRecord may take a
// user's rows past uploadRows: a batch is cut between users only, and 9,000 rows leave room.
type rowBatch struct {
	ns, key, attr []string
	hash          []any // []byte or nil
	sentAt        []any // int64 or nil
	flagged       []any // bool or nil
	version       []int64
}

func (b *rowBatch) len() int { return len(b.ns) }

// addRecord appends a user's rows: its own (the export flag) and one per attribute.
func (b *rowBatch) addRecord(nsID string, rec *state.Record, version uint64) {
	key := string(rec.Key)
	var sent any
	if rec.Flagged {
		sent = rec.FlaggedAt
	}
	b.add(nsID, key, layout.UserRow, nil, sent, rec.Flagged, version)
	for _, a := range rec.Attrs {
		h := a.Hash
		b.add(nsID, key, a.Name, h[:], a.SentAt, nil, version)
	}
}

func (b *rowBatch) add(ns, key, attr string, hash []byte, sentAt, flagged any, version uint64) {
	b.ns, b.key, b.attr = append(b.ns, ns), append(b.key, key), append(b.attr, attr)
	var h any
	if hash != nil {
		h = hash
	}
	b.hash, b.sentAt, b.flagged = append(b.hash, h), append(b.sentAt, sentAt), append(b.flagged, flagged)
	b.version = append(b.version, int64(version))
}

// upload writes what the local copy committed since it was last in step with the warehouse, as
// rows of the next version, then commits that version (lock row) and compacts superseded rows.
// With nothing to upload it changes nothing, so an unchanged run leaves the version as it is.
func (s *Store) upload(ctx context.Context) error {
	if err := s.lock.lost(); err != nil {
		return err
	}
	start := time.Now()
	upTo := s.local.Version()
	infos, err := s.ownNamespaces(ctx)
	if err != nil {
		return err
	}
	next := s.base + 1
	ids := make([]string, len(infos))
	for i, info := range infos {
		ids[i] = namespaceID(info.Namespace)
	}
	up := newUploader(s, next)
	cleaned := false
	for _, info := range infos {
		sp, err := s.local.Space(ctx, info.Namespace)
		if err != nil {
			return err
		}
		id := namespaceID(info.Namespace)
		err = sp.Scan(ctx, s.mark.Synced, func(rec *state.Record, _ bool) error {
			if s.mark.imported(rec.Version) {
				return nil
			}
			if !cleaned { // rows an interrupted upload left above the committed version
				if err := s.exec(ctx, "clearing an interrupted upload", "DELETE FROM "+s.names.state+" WHERE NS IN "+nsList(ids)+" AND VERSION > ?", int64(s.base)); err != nil {
					return err
				}
				cleaned = true
			}
			up.batch.addRecord(id, rec, next)
			up.records++
			if up.batch.len() >= uploadRows {
				return up.flush(ctx)
			}
			return nil
		})
		if err != nil {
			_ = up.wait(ctx)
			return s.uploadFailed(err)
		}
	}
	if err := up.wait(ctx); err != nil {
		return s.uploadFailed(err)
	}
	nEvents, err := s.uploadEvents(ctx, ids, next)
	if err != nil {
		return s.uploadFailed(err)
	}
	if up.records == 0 && nEvents == 0 {
		s.mark.Synced, s.mark.Imported = upTo, nil
		return writeMarkerFile(s.local.Dir(), s.mark)
	}
	for _, info := range infos {
		if err := s.recordNamespace(ctx, info, next); err != nil {
			return s.uploadFailed(err)
		}
	}
	if err := s.lock.bumpVersion(ctx, s.base, next, false); err != nil {
		return s.uploadFailed(err)
	}
	s.base = next
	s.mark.Version, s.mark.Synced, s.mark.Imported = next, upTo, nil
	s.mu.Lock()
	s.stats.Uploaded, s.stats.Version = up.records, next
	s.mu.Unlock()
	if err := writeMarkerFile(s.local.Dir(), s.mark); err != nil {
		return err
	}
	s.compact(ctx, ids, next)
	s.settleEvents(ctx, ids, next)
	s.cfg.Log.Info().Uint64("warehouse_version", next).Int64("records_uploaded", up.records).Int("rows", up.rows).Int("event_identities", nEvents).
		Dur("took", time.Since(start)).Msg("warehouse state: uploaded")
	return nil
}

func (s *Store) uploadFailed(err error) error {
	return fmt.Errorf("uploading the warehouse state: %w; Braze has what this run sent and the local copy in state_dir "+
		"records it, but the warehouse stays at version %d: a run from another machine sends those users again", err, s.base)
}

// ownNamespaces are the local copy's namespaces of this destination.
func (s *Store) ownNamespaces(ctx context.Context) ([]state.Info, error) {
	all, err := s.local.Namespaces(ctx)
	if err != nil {
		return nil, err
	}
	var out []state.Info
	for _, info := range all {
		if info.Namespace.Destination == s.cfg.Destination {
			out = append(out, info)
		}
	}
	return out, nil
}

// uploadConcurrency is how many INSERTs are in flight at once: Snowflake runs concurrent INSERTs
// into one table side by side (they write new micro-partitions), so a large upload takes a fraction
// of the round trips' sum.
const uploadConcurrency = 4

// uploader sends row batches as array-bound INSERTs, up to uploadConcurrency at a time.
type uploader struct {
	s       *Store
	version uint64
	batch   rowBatch
	records int64
	rows    int

	slots chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
}

func newUploader(s *Store, version uint64) *uploader {
	return &uploader{s: s, version: version, slots: make(chan struct{}, uploadConcurrency)}
}

// flush hands the gathered rows to an INSERT of their own and starts a new batch. It returns the
// first error of any INSERT so far.
func (u *uploader) flush(ctx context.Context) error {
	if err := u.failed(); err != nil || u.batch.len() == 0 {
		return err
	}
	b := u.batch
	u.batch = rowBatch{}
	u.rows += b.len()
	u.slots <- struct{}{}
	u.wg.Add(1)
	go func() {
		defer func() { <-u.slots; u.wg.Done() }()
		err := u.s.exec(ctx, "inserting state rows", "INSERT INTO "+u.s.names.state+
			" (NS, USER_KEY, ATTRIBUTE, HASH, SENT_AT, FLAGGED, VERSION) VALUES (?, ?, ?, ?, ?, ?, ?)",
			sf.Array(&b.ns), sf.Array(&b.key), sf.Array(&b.attr), sf.Array(&b.hash), sf.Array(&b.sentAt), sf.Array(&b.flagged), sf.Array(&b.version))
		if err != nil {
			u.mu.Lock()
			if u.err == nil {
				u.err = err
			}
			u.mu.Unlock()
		}
	}()
	return nil
}

func (u *uploader) failed() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

// wait waits for every INSERT and returns the first error.
func (u *uploader) wait(ctx context.Context) error {
	err := u.flush(ctx)
	u.wg.Wait()
	if err != nil {
		return err
	}
	return u.failed()
}

const namespaceMerge = `MERGE INTO %s t
USING (SELECT ? AS NS, ? AS DESTINATION, ? AS ENDPOINT, ? AS TABLE_NAME, ? AS KEY_KIND, ? AS EXPORT_ATTRIBUTE, ? AS EXPORT_VALUE,
  ? AS USERS, ? AS FLAGGED_USERS, ? AS LAST_RUN, ? AS VERSION) s
ON t.NS = s.NS
WHEN MATCHED THEN UPDATE SET USERS = s.USERS, FLAGGED_USERS = s.FLAGGED_USERS, LAST_RUN = COALESCE(s.LAST_RUN, t.LAST_RUN), VERSION = s.VERSION
WHEN NOT MATCHED THEN INSERT (NS, DESTINATION, ENDPOINT, TABLE_NAME, KEY_KIND, EXPORT_ATTRIBUTE, EXPORT_VALUE, USERS, FLAGGED_USERS, LAST_RUN, RESET_VERSION, VERSION)
  VALUES (s.NS, s.DESTINATION, s.ENDPOINT, s.TABLE_NAME, s.KEY_KIND, s.EXPORT_ATTRIBUTE, s.EXPORT_VALUE, s.USERS, s.FLAGGED_USERS, s.LAST_RUN, 0, s.VERSION)`

// recordNamespace writes a namespace's row: its description and counters, and this run as its
// last when this run committed to it (else LAST_RUN stays the warehouse's).
func (s *Store) recordNamespace(ctx context.Context, info state.Info, version uint64) error {
	ns := info.Namespace
	var lastRun any
	if info.LastRun == s.cfg.RunID {
		lastRun = s.cfg.RunID
	}
	return s.exec(ctx, "recording namespace "+ns.String(), fmt.Sprintf(namespaceMerge, s.names.namespaces),
		namespaceID(ns), ns.Destination, ns.Endpoint, ns.Table, ns.KeyKind, ns.ExportAttribute, ns.ExportValue,
		info.Users, info.Flagged, lastRun, int64(version))
}

// compact deletes the rows the new version superseded. It runs after the commit, so a crash
// leaves both versions (readers take the latest); the next upload or a later compaction removes
// them. Until COMPACTED_VERSION catches up, the source's pushdown reads every row.
func (s *Store) compact(ctx context.Context, ids []string, version uint64) {
	in := nsList(ids)
	err := s.exec(ctx, "compacting the warehouse state", "DELETE FROM "+s.names.state+" WHERE NS IN "+in+" AND VERSION < ? AND NS || USER_KEY IN "+
		"(SELECT NS || USER_KEY FROM "+s.names.state+" WHERE NS IN "+in+" AND VERSION = ?)", int64(version), int64(version))
	if err == nil {
		err = s.exec(ctx, "compacting the warehouse state", "UPDATE "+s.names.locks+" SET COMPACTED_VERSION = ? WHERE DESTINATION = ? AND VERSION = ?",
			int64(version), s.cfg.Destination, int64(version))
	}
	if err != nil {
		s.cfg.Log.Warn().Err(err).Msg("warehouse state: superseded rows stay until the next upload compacts them")
	}
}

// recordPushdown writes this run's mapping settings to the lock row before any source runs, so
// the Snowflake source's pushdown computes this run's diff, not the last one's.
func (s *Store) recordPushdown(ctx context.Context) error {
	b, err := json.Marshal(s.cfg.Pushdown)
	if err != nil {
		return fmt.Errorf("encoding the pushdown settings: %w", err)
	}
	return s.exec(ctx, "recording the pushdown settings", "UPDATE "+s.names.locks+" SET PUSHDOWN = ? WHERE DESTINATION = ? AND RUN_ID = ?",
		string(b), s.cfg.Destination, s.cfg.RunID)
}

func (s *Store) exec(ctx context.Context, doing, stmt string, args ...any) error {
	if _, err := s.db.ExecContext(ctx, stmt, args...); err != nil {
		return explain(doing, err)
	}
	return nil
}

package snowflakestate

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/destination/state/snowflakestate/layout"
)

// importBatch is how many records one Space.Import takes.
const importBatch = 10000

// warehouseNamespace is a row of BRAZESYNC_NAMESPACES.
type warehouseNamespace struct {
	id      string
	ns      state.Namespace
	reset   uint64 // the version that last reset it
	lastRun string // LAST_RUN: the run that last committed to it, from any machine
}

// source names the warehouse state this store follows, for the local marker.
func (s *Store) source() string {
	d := s.cfg.Driver
	return strings.Join([]string{strings.ToUpper(d.Account), strings.ToLower(d.Host), s.names.schema, s.cfg.Destination}, "/")
}

// catchUp brings the local copy up to date with the warehouse: the records of versions the copy
// has not seen, whole. A copy that follows another warehouse state, or is ahead of this one (the
// tables were dropped and made again), is emptied and rebuilt.
func (s *Store) catchUp(ctx context.Context) error {
	version, _, err := s.readVersion(ctx)
	if err != nil {
		return err
	}
	m, ok, err := readMarkerFile(s.local.Dir())
	if err != nil {
		return err
	}
	if !ok || m.Source != s.source() || m.Version > version {
		if err := s.resetLocal(ctx, func(state.Namespace) bool { return true }, ok); err != nil {
			return err
		}
		m = marker{Source: s.source(), Synced: s.local.Version()}
	}
	spaces, err := s.readNamespaces(ctx)
	if err != nil {
		return err
	}
	s.lastRuns = map[state.Namespace]string{}
	for _, w := range spaces {
		s.lastRuns[w.ns] = w.lastRun
	}
	full := map[string]bool{}
	for _, w := range spaces {
		if w.reset > m.Version {
			full[w.id] = true
			if err := s.resetLocal(ctx, func(ns state.Namespace) bool { return ns == w.ns }, false); err != nil {
				return err
			}
		}
	}
	from := s.local.Version()
	if version > m.Version && len(spaces) > 0 {
		n, err := s.importRows(ctx, spaces, full, m.Version, version)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.stats.Imported = n
		s.mu.Unlock()
	}
	// Event identities every time, not only when the version moved: a run that died leaves
	// pending ones without a new version.
	if err := s.importEvents(ctx, spaces, full, m.Version, version); err != nil {
		return err
	}
	if to := s.local.Version(); to > from {
		m.Imported = append(m.Imported, [2]uint64{from, to})
	}
	m.Version = version
	s.base, s.mark = version, m
	s.mu.Lock()
	s.stats.Version = version
	s.mu.Unlock()
	s.cfg.Log.Info().Uint64("warehouse_version", version).Int64("records_imported", s.stats.Imported).
		Msg("warehouse state: local copy up to date")
	return writeMarkerFile(s.local.Dir(), m)
}

// resetLocal empties the destination's namespaces of the local copy that match.
func (s *Store) resetLocal(ctx context.Context, match func(state.Namespace) bool, say bool) error {
	gone, err := s.local.Reset(ctx, func(ns state.Namespace) bool { return ns.Destination == s.cfg.Destination && match(ns) })
	if err != nil {
		return err
	}
	if say && len(gone) > 0 {
		s.cfg.Log.Warn().Int("namespaces", len(gone)).
			Msg("warehouse state: the local copy in state_dir followed another warehouse state (or the tables were made again): rebuilding it from the warehouse")
	}
	return nil
}

// readVersion reads the state's committed and compacted versions from the lock row.
func (s *Store) readVersion(ctx context.Context) (version, compacted uint64, err error) {
	var v, c int64
	err = s.db.QueryRowContext(ctx, "SELECT VERSION, COMPACTED_VERSION FROM "+s.names.locks+" WHERE DESTINATION = ?", s.cfg.Destination).Scan(&v, &c)
	if err != nil {
		return 0, 0, explain("reading the warehouse state's version", err)
	}
	return uint64(v), uint64(c), nil
}

func (s *Store) readNamespaces(ctx context.Context) ([]warehouseNamespace, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT NS, ENDPOINT, TABLE_NAME, KEY_KIND, EXPORT_ATTRIBUTE, EXPORT_VALUE, RESET_VERSION, LAST_RUN FROM "+
		s.names.namespaces+" WHERE DESTINATION = ?", s.cfg.Destination)
	if err != nil {
		return nil, explain("reading the warehouse state's namespaces", err)
	}
	defer rows.Close()
	var out []warehouseNamespace
	for rows.Next() {
		w := warehouseNamespace{ns: state.Namespace{Destination: s.cfg.Destination}}
		var reset int64
		var lastRun sql.NullString
		if err := rows.Scan(&w.id, &w.ns.Endpoint, &w.ns.Table, &w.ns.KeyKind, &w.ns.ExportAttribute, &w.ns.ExportValue, &reset, &lastRun); err != nil {
			return nil, explain("reading the warehouse state's namespaces", err)
		}
		w.reset, w.lastRun = uint64(reset), lastRun.String
		if id := namespaceID(w.ns); id != w.id {
			return nil, fmt.Errorf("reading the warehouse state's namespaces: row %s describes namespace %s, whose id is %s: the table was edited by hand", w.id, w.ns, id)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

func namespaceID(ns state.Namespace) string {
	return layout.Namespace{Destination: ns.Destination, Endpoint: ns.Endpoint, Table: ns.Table, KeyKind: ns.KeyKind,
		ExportAttribute: ns.ExportAttribute, ExportValue: ns.ExportValue}.ID()
}

// nsList renders namespace ids as an IN list (ids are hex digits).
func nsList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = "'" + id + "'"
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// importRows streams the rows of the versions in (since, upTo] (every version for the namespaces
// in full) and imports them as whole records: a user's latest version replaces the local record.
func (s *Store) importRows(ctx context.Context, spaces []warehouseNamespace, full map[string]bool, since, upTo uint64) (int64, error) {
	byID, ids, fullIDs := namespaceLists(spaces, full)
	q := "SELECT NS, USER_KEY, ATTRIBUTE, HASH, SENT_AT, FLAGGED, VERSION FROM " + s.names.state +
		" WHERE NS IN " + nsList(ids) + " AND VERSION <= ? AND (VERSION > ? OR NS IN " + nsList(fullIDs) + ")" +
		" ORDER BY NS, USER_KEY, ATTRIBUTE, VERSION" // the table's key: a user's rows come together
	imp := &importer{s: s, byID: byID}
	err := streamArrow(ctx, s.db, q, func(rec arrow.Record) error { return imp.add(ctx, rec) }, int64(upTo), int64(since))
	if err == nil {
		err = imp.flush(ctx)
	}
	if err != nil {
		return imp.n, explain("importing the warehouse state", err)
	}
	return imp.n, nil
}

// namespaceLists indexes spaces by id and lists their ids and those of the ones in full (never
// empty, for an IN list).
func namespaceLists(spaces []warehouseNamespace, full map[string]bool) (byID map[string]state.Namespace, ids, fullIDs []string) {
	byID = map[string]state.Namespace{}
	ids, fullIDs = make([]string, 0, len(spaces)), []string{"-"}
	for _, w := range spaces {
		byID[w.id] = w.ns
		ids = append(ids, w.id)
		if full[w.id] {
			fullIDs = append(fullIDs, w.id)
		}
	}
	return byID, ids, fullIDs
}

// importer gathers rows into records, one user at a time, and imports them in batches.
type importer struct {
	s       *Store
	byID    map[string]state.Namespace
	ns, key string
	rows    []stateRow // the current user's rows, every version
	pending []state.Record
	pendNS  string
	n       int64
}

// stateRow is one row of BRAZESYNC_STATE for the current user.
type stateRow struct {
	attr    string
	version int64
	hash    state.Hash
	sentAt  int64
	flagged bool
}

func (im *importer) add(ctx context.Context, rec arrow.Record) error {
	cols := rec.Columns()
	for i := 0; i < int(rec.NumRows()); i++ {
		ns, _ := stringAt(cols[0], i)
		key, _ := stringAt(cols[1], i)
		if len(im.rows) > 0 && (ns != im.ns || key != im.key) {
			if err := im.finish(ctx); err != nil {
				return err
			}
		}
		im.ns, im.key = ns, key
		r := stateRow{}
		r.attr, _ = stringAt(cols[2], i)
		r.sentAt, _ = intAt(cols[4], i)
		r.version, _ = intAt(cols[6], i)
		if r.attr == layout.UserRow {
			r.flagged, _ = boolAt(cols[5], i)
		} else {
			h, ok := binaryAt(cols[3], i)
			if !ok || len(h) != state.HashSize {
				return fmt.Errorf("a hash of namespace %s is not %d bytes: the table was edited by hand", ns, state.HashSize)
			}
			copy(r.hash[:], h)
		}
		im.rows = append(im.rows, r)
	}
	return nil
}

// finish queues the current user's record: its rows of the latest version, which wrote the whole
// record (rows of older versions are left only by an upload interrupted before compaction).
func (im *importer) finish(ctx context.Context) error {
	if len(im.rows) == 0 {
		return nil
	}
	if im.ns != im.pendNS || len(im.pending) >= importBatch {
		if err := im.importPending(ctx); err != nil {
			return err
		}
		im.pendNS = im.ns
	}
	latest := im.rows[0].version
	for _, r := range im.rows {
		latest = max(latest, r.version)
	}
	rec := state.Record{Key: []byte(im.key)}
	for _, r := range im.rows {
		switch {
		case r.version != latest:
		case r.attr == layout.UserRow:
			rec.Flagged = r.flagged
			if r.flagged {
				rec.FlaggedAt = r.sentAt
			}
		default:
			rec.Attrs = append(rec.Attrs, state.Attr{Name: r.attr, Hash: r.hash, SentAt: r.sentAt})
		}
	}
	sort.Slice(rec.Attrs, func(a, b int) bool { return rec.Attrs[a].Name < rec.Attrs[b].Name })
	im.pending = append(im.pending, rec)
	im.rows = im.rows[:0]
	return nil
}

// flush imports everything gathered, at the end of the stream.
func (im *importer) flush(ctx context.Context) error {
	if err := im.finish(ctx); err != nil {
		return err
	}
	return im.importPending(ctx)
}

func (im *importer) importPending(ctx context.Context) error {
	if len(im.pending) == 0 {
		return nil
	}
	ns, ok := im.byID[im.pendNS]
	if !ok {
		return fmt.Errorf("rows of an unknown namespace %s", im.pendNS)
	}
	sp, err := im.s.local.Space(ctx, ns)
	if err != nil {
		return err
	}
	if err := sp.Import(ctx, im.pending); err != nil {
		return err
	}
	im.n += int64(len(im.pending))
	im.pending = im.pending[:0]
	return nil
}

package state

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/rs/zerolog"
)

// Options configure Open.
type Options struct {
	// RunID names this run in the folder's lock and as each namespace's last run.
	RunID string
	// ReadOnly opens an existing folder only to read it (brazesync state show). Open then fails with
	// ErrNoState when the folder does not exist, and Space never creates a namespace.
	ReadOnly bool
	// Log receives the store's own messages (recovery, compactions) at debug level, its errors at warn.
	Log zerolog.Logger
	// CacheBytes sizes the block cache; 0 means defaultCacheBytes.
	CacheBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// defaultCacheBytes keeps the destination's memory flat however many users the state holds: the
// records live on disk, and the cache only has to hold the index and filter blocks hot. 24 MiB
// holds them for 10M users (an unchanged 10M re-sync ran as fast as with 32 MiB, and the peak RSS
// of a 10M-row sync fell from 151 to 142 MiB); 16 MiB did not (the same sync took 1.9x as long).
const defaultCacheBytes = 24 << 20

// Local is the embedded backend: a pebble store in the state folder, locked for one run.
type Local struct {
	dir  string
	opts Options
	db   *pebble.DB
	lock *folderLock

	version atomic.Uint64
	damage  atomic.Pointer[error] // set when the store finds a damaged file (noteDamage)
	abs     string                // key in opened
	refs    atomic.Int32          // Opens not yet closed; changed only under openMu
	mu      sync.Mutex            // guards spaces and nextID
	spaces  map[Namespace]*space
	nextID  uint32

	submitMu  sync.RWMutex // held to queue a commit; Close takes it to stop new ones
	closing   bool         // guarded by submitMu
	commits   chan *commitReq
	stage     *staged // the commit loop's: each group's writes
	groups    int     // the commit loop's: groups written (logged at Close)
	enc       []byte  // the commit loop's: scratch for encoded records
	stopped   chan struct{}
	trimDone  chan struct{} // closed by Close: ends trimLoop
	closeOnce sync.Once
	closeErr  error
}

// Assert at compile time that Local is a Store.
var _ Store = (*Local)(nil)

// open folders of this process, by absolute path: runs of one process (the Action Hub's concurrent
// actions) share one store, while another process is refused by the folder's lock.
var (
	openMu sync.Mutex
	opened = map[string]*Local{}
)

// Open opens (creating if needed) the state folder dir and locks it for this run. A folder in use
// by another process fails with a *LockedError; a damaged one with ErrCorrupt; one written by a
// newer brazesync with ErrNewerFormat. None of them is ever taken for an empty folder. Within one
// process, opening a folder already open returns the same store (each Close releases one Open).
func Open(dir string, o Options) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving state_dir: %w", err)
	}
	openMu.Lock()
	defer openMu.Unlock()
	if l, ok := opened[abs]; ok {
		if l.opts.ReadOnly && !o.ReadOnly {
			return nil, fmt.Errorf("state_dir %s is open read-only in this process", dir)
		}
		l.refs.Add(1)
		return l, nil
	}
	l, err := openLocal(dir, o)
	if err != nil {
		return nil, err
	}
	l.abs = abs
	l.refs.Store(1)
	opened[abs] = l
	return l, nil
}

func openLocal(dir string, o Options) (*Local, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = defaultCacheBytes
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) && o.ReadOnly {
		return nil, fmt.Errorf("%w: state_dir %s does not exist yet", ErrNoState, dir)
	}
	if !o.ReadOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating state_dir: %w", err)
		}
	}
	host, _ := os.Hostname()
	lock, err := lockFolder(dir, Holder{RunID: o.RunID, PID: os.Getpid(), Host: host, Since: o.Now().UTC()})
	if err != nil {
		return nil, err
	}
	l := &Local{dir: dir, opts: o, lock: lock, spaces: map[Namespace]*space{}, nextID: 1}
	if err := l.open(); err != nil {
		_ = lock.release()
		return nil, err
	}
	l.commits = make(chan *commitReq, 64)
	l.stage = newStaged()
	l.stopped = make(chan struct{})
	l.trimDone = make(chan struct{})
	go l.commitLoop()
	go l.trimLoop()
	return l, nil
}

// open opens or creates the store, checks its format and loads the namespaces.
func (l *Local) open() error {
	fresh, err := l.checkFolder()
	if err != nil {
		return err
	}
	po := l.pebbleOptions(fresh)
	db, err := pebble.Open(l.dir, po)
	po.Cache.Unref() // the store holds its own reference from here on
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("opening state_dir %s: %w", l.dir, err)
		}
		return corrupt(l.dir, fmt.Errorf("opening the store: %w", err))
	}
	l.db = db
	if err := l.load(fresh); err != nil {
		_ = db.Close()
		l.db = nil
		return err
	}
	if fresh {
		return writeMarker(l.dir, marker{Format: formatVersion, Created: l.opts.Now().UTC(), Store: true})
	}
	return nil
}

// checkFolder reads the marker and says whether the store must be created. A folder is new when it
// holds nothing but this package's own files and its marker (if any) says the store was never
// made; any other folder without a readable marker is refused, never taken for an empty one.
func (l *Local) checkFolder() (fresh bool, err error) {
	m, hasMarker, err := readMarker(l.dir)
	if err != nil {
		return false, err
	}
	if hasMarker && m.Format > formatVersion {
		return false, newer(l.dir, m.Format)
	}
	own, err := onlyOwnFiles(l.dir)
	if err != nil {
		return false, err
	}
	switch {
	case own && hasMarker && m.Store:
		return false, corrupt(l.dir, errors.New("the store's files are gone (only "+markerFile+" is left)"))
	case own && l.opts.ReadOnly:
		return false, fmt.Errorf("%w: state_dir %s holds no state yet", ErrNoState, l.dir)
	case own:
		return true, writeMarker(l.dir, marker{Format: formatVersion, Created: l.opts.Now().UTC()})
	case !hasMarker:
		return false, corrupt(l.dir, errors.New("it holds files but no "+markerFile+" (not a state folder, or its marker was deleted)"))
	case !m.Store && l.opts.ReadOnly:
		return false, fmt.Errorf("%w: state_dir %s holds no state yet", ErrNoState, l.dir)
	case !m.Store:
		// The first Open stopped while creating the store. No record can have been written (the
		// marker is completed before Open returns), so the half-made store is started afresh.
		return true, removeStoreFiles(l.dir)
	}
	return false, nil
}

func (l *Local) pebbleOptions(fresh bool) *pebble.Options {
	po := &pebble.Options{
		Cache:                       pebble.NewCache(l.opts.CacheBytes),
		MemTableSize:                8 << 20,
		MemTableStopWritesThreshold: 4,
		// Fewer, larger compactions: a run writes its users once, and lookups of absent users
		// are answered by each file's filter, so a few more level-0 files cost little.
		L0CompactionThreshold:     8,
		L0CompactionFileThreshold: 16,
		L0StopWritesThreshold:     64,
		LBaseMaxBytes:             256 << 20,
		FormatMajorVersion:        pebble.FormatWALSyncChunks,
		Logger:                    pebbleLogger{l.opts.Log},
		ReadOnly:                  l.opts.ReadOnly,
		ErrorIfNotExists:          !fresh,
		ErrorIfExists:             fresh,
	}
	po.EventListener = &pebble.EventListener{DataCorruption: l.noteDamage}
	for i := range po.Levels {
		lv := &po.Levels[i]
		lv.FilterPolicy = bloom.FilterPolicy(10)
		// Records are mostly hashes, which do not compress: compressing would cost CPU for nothing.
		lv.Compression = func() *sstable.CompressionProfile { return sstable.NoCompression }
	}
	return po
}

// load checks the store's format, verifies its tables can be opened and reads the namespaces.
func (l *Local) load(fresh bool) error {
	if fresh {
		b := l.db.NewBatch()
		_ = b.Set(keyFormat, binary.AppendUvarint(nil, formatVersion), nil)
		_ = b.Set(keyVersion, binary.AppendUvarint(nil, 0), nil)
		if err := l.db.Apply(b, pebble.Sync); err != nil {
			return fmt.Errorf("creating the state store: %w", err)
		}
		return nil
	}
	v, err := l.getUvarint(keyFormat)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		return corrupt(l.dir, errors.New("the store has no format record"))
	case err != nil:
		return corrupt(l.dir, err)
	case v > formatVersion:
		return newer(l.dir, int(v))
	}
	// Opening every table reads its footer, index and properties: a truncated or garbled table
	// fails here, before any request, instead of at the first lookup that reaches it.
	if _, err := l.db.SSTables(pebble.WithProperties()); err != nil {
		return corrupt(l.dir, fmt.Errorf("reading the store's tables: %w", err))
	}
	if err := l.damaged(); err != nil {
		return err
	}
	ver, err := l.getUvarint(keyVersion)
	if err != nil {
		return corrupt(l.dir, fmt.Errorf("reading the store's version: %w", err))
	}
	l.version.Store(ver)
	return l.loadNamespaces()
}

func (l *Local) getUvarint(key []byte) (uint64, error) {
	b, closer, err := l.db.Get(key)
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, errBadRecord
	}
	return v, nil
}

func (l *Local) loadNamespaces() error {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{kindNamespace}, UpperBound: []byte{kindNamespace + 1}})
	if err != nil {
		return corrupt(l.dir, err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		var m nsMeta
		if err := json.Unmarshal(it.Value(), &m); err != nil || m.ID == 0 {
			return corrupt(l.dir, fmt.Errorf("a namespace description is not readable"))
		}
		sp := newSpace(l, m)
		l.spaces[m.Namespace] = sp
		l.nextID = max(l.nextID, m.ID+1)
	}
	if err := it.Error(); err != nil {
		return corrupt(l.dir, err)
	}
	return nil
}

// noteDamage records a damaged file the store found, in the background or on a read. The details
// are left out: they can hold a key range, and keys are user identifiers.
func (l *Local) noteDamage(info pebble.DataCorruptionInfo) {
	err := corrupt(l.dir, fmt.Errorf("the store's file %s is damaged", filepath.Base(info.Path)))
	l.damage.CompareAndSwap(nil, &err)
}

// damaged returns the damage noted so far, or nil.
func (l *Local) damaged() error {
	if p := l.damage.Load(); p != nil {
		return *p
	}
	return nil
}

// readErr names a failed read: damage as ErrCorrupt with the fix, anything else as is.
func (l *Local) readErr(ns Namespace, err error) error {
	if pebble.IsCorruptionError(err) {
		return corrupt(l.dir, fmt.Errorf("reading %s: %w", ns, err))
	}
	return fmt.Errorf("reading state of %s: %w", ns, err)
}

// Dir is the state folder.
func (l *Local) Dir() string { return l.dir }

// Version is the store's version (see Store).
func (l *Local) Version() uint64 { return l.version.Load() }

// Space returns the records of ns, creating the namespace (durably) if it is new.
func (l *Local) Space(ctx context.Context, ns Namespace) (Space, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sp, ok := l.spaces[ns]; ok {
		return &run{space: sp}, nil
	}
	if l.opts.ReadOnly {
		return nil, fmt.Errorf("%w: no state for %s", ErrNoState, ns)
	}
	m := nsMeta{Namespace: ns, ID: l.nextID}
	b, _ := json.Marshal(m)
	if err := l.db.Set(nsKey(m.ID), b, pebble.Sync); err != nil {
		return nil, fmt.Errorf("creating state namespace %s: %w", ns, err)
	}
	l.nextID++
	sp := newSpace(l, m)
	l.spaces[ns] = sp
	return &run{space: sp}, nil
}

// Namespaces describes every namespace, sorted by destination, table, key kind and flag.
func (l *Local) Namespaces(ctx context.Context) ([]Info, error) {
	l.mu.Lock()
	spaces := make([]*space, 0, len(l.spaces))
	for _, sp := range l.spaces {
		spaces = append(spaces, sp)
	}
	l.mu.Unlock()
	out := make([]Info, 0, len(spaces))
	for _, sp := range spaces {
		info, err := sp.Info(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return lessNamespace(out[i].Namespace, out[j].Namespace) })
	return out, nil
}

func lessNamespace(a, b Namespace) bool {
	ka := []string{a.Destination, a.Table, a.Endpoint, a.KeyKind, a.ExportAttribute, a.ExportValue}
	kb := []string{b.Destination, b.Table, b.Endpoint, b.KeyKind, b.ExportAttribute, b.ExportValue}
	for i := range ka {
		if ka[i] != kb[i] {
			return ka[i] < kb[i]
		}
	}
	return false
}

// Reset deletes the namespaces match selects, records and description, durably, and compacts
// their key range so the disk space is returned.
func (l *Local) Reset(ctx context.Context, match func(Namespace) bool) ([]Namespace, error) {
	if l.opts.ReadOnly {
		return nil, errors.New("resetting state: the folder was opened read-only")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var gone []Namespace
	b := l.db.NewBatch()
	for ns, sp := range l.spaces {
		if !match(ns) {
			continue
		}
		id := sp.id
		_ = b.DeleteRange(userPrefix(nil, id), userPrefix(nil, id+1), nil)
		for _, r := range eventRanges(id) { // its event identities too (events.go)
			_ = b.DeleteRange(r[0], r[1], nil)
		}
		_ = b.Delete(nsKey(id), nil)
		gone = append(gone, ns)
	}
	if len(gone) == 0 {
		b.Close()
		return nil, nil
	}
	if err := l.db.Apply(b, pebble.Sync); err != nil {
		return nil, fmt.Errorf("resetting state: %w", err)
	}
	for _, ns := range gone {
		id := l.spaces[ns].id
		delete(l.spaces, ns)
		if err := l.db.Compact(ctx, userPrefix(nil, id), userPrefix(nil, id+1), false); err != nil {
			l.opts.Log.Debug().Err(err).Msg("compacting reset state")
		}
	}
	sort.Slice(gone, func(i, j int) bool { return lessNamespace(gone[i], gone[j]) })
	return gone, nil
}

// DiskBytes is the size of the folder's files.
func (l *Local) DiskBytes() uint64 {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return 0
	}
	var n uint64
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			n += uint64(fi.Size())
		}
	}
	return n
}

// Close releases one Open. The last one waits for pending commits, closes the store and releases
// the folder; closing more often than opening is harmless.
func (l *Local) Close() error {
	openMu.Lock()
	if l.refs.Load() > 1 {
		l.refs.Add(-1)
		openMu.Unlock()
		return nil
	}
	l.refs.Store(0)
	if opened[l.abs] == l {
		delete(opened, l.abs)
	}
	openMu.Unlock()
	l.closeOnce.Do(func() {
		l.submitMu.Lock()
		l.closing = true
		close(l.commits)
		l.submitMu.Unlock()
		<-l.stopped
		close(l.trimDone)
		l.opts.Log.Debug().Str("module", "state").Int("commit_groups", l.groups).Msg("state store closing")
		var errs []error
		if l.db != nil && !l.opts.ReadOnly {
			// At rest the records live in table files, which Open verifies, rather than in the log.
			if err := l.db.Flush(); err != nil {
				errs = append(errs, fmt.Errorf("flushing the state store: %w", err))
			}
		}
		if l.db != nil {
			if err := l.db.Close(); err != nil {
				errs = append(errs, fmt.Errorf("closing the state store: %w", err))
			}
		}
		if err := l.lock.release(); err != nil {
			errs = append(errs, fmt.Errorf("releasing state_dir: %w", err))
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// trimLoop returns the C heap's free pages to the system while the store is open (releaseFreed):
// often enough that the cache's churn between two trims stays small.
func (l *Local) trimLoop() {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-l.trimDone:
			return
		case <-t.C:
			releaseFreed()
		}
	}
}

// pebbleLogger sends the store's messages to the run's log: they name files, never keys or values.
type pebbleLogger struct{ log zerolog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.log.Debug().Str("module", "state").Msgf(format, args...)
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.log.Warn().Str("module", "state").Msgf(format, args...)
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.log.Error().Str("module", "state").Msgf(format, args...)
	panic(fmt.Sprintf("state store: "+format, args...))
}

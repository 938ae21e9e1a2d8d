package snowflakestate

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	sf "github.com/snowflakedb/gosnowflake"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/test/emutest"
)

const testTTL = time.Minute

// warehouse is an emulator the tests' "machines" share.
type warehouse struct {
	t   *testing.T
	emu *snowflakeemu.Emulator
	run int
}

func newWarehouse(t *testing.T) *warehouse { return newWarehouseAt(t, 0) }

// newWarehouseAt is a warehouse whose every statement takes at least latency, as Snowflake's do.
func newWarehouseAt(t *testing.T, latency time.Duration) *warehouse {
	emu := emutest.Snowflake(t, snowflakeemu.Options{Password: "pw", Now: snowflakeemu.SeedClock, Latency: latency})
	return &warehouse{t: t, emu: emu}
}

func (w *warehouse) driver() *sf.Config {
	host, port := w.emu.HostPort()
	return &sf.Config{Account: "EMU", User: "BRAZESYNC", Password: "pw", Database: "BRAZE", Warehouse: "COMPUTE_WH",
		Host: host, Port: port, Protocol: "http", DisableTelemetry: true, LoginTimeout: 5 * time.Second, MaxRetryCount: 1}
}

// open opens the warehouse state with a local copy in dir, as a run of destination "braze".
func (w *warehouse) open(dir string) (*Store, error) {
	w.run++
	local, err := state.Open(dir, state.Options{RunID: fmt.Sprintf("run-%d", w.run)})
	require.NoError(w.t, err)
	return Open(context.Background(), local, Config{Driver: w.driver(), Database: "BRAZE", Destination: "braze",
		RunID: fmt.Sprintf("run-%d", w.run), LockTimeout: testTTL, Heartbeat: time.Hour, Log: zerolog.Nop()})
}

func (w *warehouse) mustOpen(dir string) *Store {
	s, err := w.open(dir)
	require.NoError(w.t, err)
	return s
}

// rows counts the state table's rows.
func (w *warehouse) rows() int {
	var n int
	require.NoError(w.t, w.emu.DB().QueryRow(`SELECT count(*) FROM "BRAZESYNC.BRAZESYNC_STATE"`).Scan(&n))
	return n
}

var users = state.Namespace{Destination: "braze", Endpoint: "rest.iad-01.braze.com", Table: "users", KeyKind: "external_id", ExportAttribute: "looker_export", ExportValue: "VIP"}

// commit records that Braze accepted attribute values for keys.
func commit(t *testing.T, s *Store, keys []string, value string, flag bool) {
	t.Helper()
	sp, err := s.Space(context.Background(), users)
	require.NoError(t, err)
	var ups []state.Update
	for _, k := range keys {
		u := state.Update{Key: []byte(k), SentAt: 1700000000,
			Attrs: []state.Attr{{Name: "tier", Hash: state.HashValue([]byte(`"` + value + `"`)), SentAt: 1700000000}}}
		if flag {
			u.Flag = state.FlagSet
		}
		ups = append(ups, u)
	}
	require.NoError(t, sp.Commit(context.Background(), ups))
}

// lookup returns the tier hash and flag recorded for key.
func lookup(t *testing.T, s *Store, key string) (state.Hash, bool, bool) {
	t.Helper()
	sp, err := s.Space(context.Background(), users)
	require.NoError(t, err)
	var rec state.Record
	ok, err := sp.Lookup([]byte(key), &rec)
	require.NoError(t, err)
	if !ok {
		return state.Hash{}, false, false
	}
	a := rec.Attr("tier")
	require.NotNil(t, a)
	return a.Hash, rec.Flagged, true
}

func keys(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%05d", prefix, i)
	}
	return out
}

// TestTwoMachines: a run on a fresh folder finds what the run on another folder committed, and
// a later run imports only what changed since its own copy's version.
func TestTwoMachines(t *testing.T) {
	w := newWarehouse(t)
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	a := w.mustOpen(dirA)
	commit(t, a, keys("u", 12000), "gold", true) // more rows than one INSERT carries
	require.NoError(t, a.Close())
	require.Equal(t, int64(12000), a.Stats().Uploaded)
	require.Equal(t, uint64(1), a.Stats().Version)
	require.Equal(t, 24000, w.rows(), "one user row and one attribute row per user")

	b := w.mustOpen(dirB)
	require.Equal(t, int64(12000), b.Stats().Imported)
	h, flagged, ok := lookup(t, b, "u00042")
	require.True(t, ok)
	require.True(t, flagged)
	require.Equal(t, state.HashValue([]byte(`"gold"`)), h)
	commit(t, b, keys("u", 10), "platinum", true)
	require.NoError(t, b.Close())
	require.Equal(t, int64(10), b.Stats().Uploaded, "only what b committed")
	require.Equal(t, 24000, w.rows(), "superseded rows are compacted")

	a = w.mustOpen(dirA)
	require.Equal(t, int64(10), a.Stats().Imported, "a imports only the version it has not seen")
	h, _, _ = lookup(t, a, "u00003")
	require.Equal(t, state.HashValue([]byte(`"platinum"`)), h)
	require.NoError(t, a.Close())
	require.Zero(t, a.Stats().Uploaded, "importing is not committing: nothing to upload")
	require.Equal(t, uint64(2), a.Stats().Version, "an unchanged run leaves the version")
}

// crash stops a store the way kill -9 would: no upload, no release, no more heartbeats.
func crash(s *Store) {
	close(s.flushStop)
	<-s.flushDone
	close(s.lock.stop)
	<-s.lock.done
	_ = s.db.Close()
	_ = s.local.Close()
}

// TestKilledRunLeavesPreviousVersion: a run killed before its upload leaves the warehouse at the
// previous version; its lock refuses the next run, naming it, until it expires.
func TestKilledRunLeavesPreviousVersion(t *testing.T) {
	w := newWarehouse(t)
	a := w.mustOpen(filepath.Join(t.TempDir(), "a"))
	commit(t, a, keys("u", 5), "gold", true)
	require.NoError(t, a.Close())

	killed := w.mustOpen(filepath.Join(t.TempDir(), "k"))
	commit(t, killed, keys("u", 3), "silver", true)
	crash(killed)

	_, err := w.open(filepath.Join(t.TempDir(), "b"))
	var le *LockedError
	require.ErrorAs(t, err, &le)
	require.ErrorIs(t, err, state.ErrLocked)
	require.Equal(t, "run-2", le.Holder.RunID)
	require.Contains(t, err.Error(), "in use by run run-2")

	w.emu.Advance(testTTL + time.Second)
	b := w.mustOpen(filepath.Join(t.TempDir(), "b2"))
	require.NotNil(t, b.Stats().TookOver)
	require.Equal(t, "run-2", b.Stats().TookOver.RunID)
	h, _, _ := lookup(t, b, "u00001")
	require.Equal(t, state.HashValue([]byte(`"gold"`)), h, "the killed run's commits never reached the warehouse")
	require.Equal(t, int64(5), b.Stats().Imported)
	require.NoError(t, b.Close())
}

// TestCrashedUploadIsCleared: rows an interrupted upload wrote above the committed version are
// invisible to readers and removed by the next upload.
func TestCrashedUploadIsCleared(t *testing.T) {
	w := newWarehouse(t)
	dir := filepath.Join(t.TempDir(), "a")
	a := w.mustOpen(dir)
	commit(t, a, keys("u", 4), "gold", false)
	require.NoError(t, a.Close())
	// An upload that died after its INSERT, before the version moved.
	_, err := w.emu.DB().Exec(`INSERT INTO "BRAZESYNC.BRAZESYNC_STATE" VALUES (?, 'u00000', 'tier', x'0102030405060708', 1, NULL, 2)`, namespaceID(users))
	require.NoError(t, err)
	b := w.mustOpen(filepath.Join(t.TempDir(), "b"))
	h, _, _ := lookup(t, b, "u00000")
	require.Equal(t, state.HashValue([]byte(`"gold"`)), h)
	commit(t, b, []string{"u00001"}, "silver", false)
	require.NoError(t, b.Close())
	var n int
	require.NoError(t, w.emu.DB().QueryRow(`SELECT count(*) FROM "BRAZESYNC.BRAZESYNC_STATE" WHERE HASH = x'0102030405060708'`).Scan(&n))
	require.Zero(t, n)
}

// TestLostLockStopsCommits: a run whose lock was taken over may not commit or upload.
func TestLostLockStopsCommits(t *testing.T) {
	w := newWarehouse(t)
	a := w.mustOpen(filepath.Join(t.TempDir(), "a"))
	w.emu.Advance(testTTL + time.Second)
	b := w.mustOpen(filepath.Join(t.TempDir(), "b"))
	a.lock.beat(context.Background()) // a's next heartbeat finds b's run in the row
	sp, err := a.Space(context.Background(), users)
	require.NoError(t, err)
	err = sp.Commit(context.Background(), []state.Update{{Key: []byte("x"), Attrs: []state.Attr{{Name: "tier"}}}})
	require.ErrorIs(t, err, ErrLockLost)
	require.Contains(t, err.Error(), "run run-2")
	require.ErrorIs(t, a.Close(), ErrLockLost)
	commit(t, b, []string{"y"}, "gold", false)
	require.NoError(t, b.Close())
}

// TestResetReachesEveryMachine: a reset on one machine empties the namespace on every other.
func TestResetReachesEveryMachine(t *testing.T) {
	w := newWarehouse(t)
	dirA := filepath.Join(t.TempDir(), "a")
	a := w.mustOpen(dirA)
	commit(t, a, keys("u", 3), "gold", true)
	require.NoError(t, a.Close())
	b := w.mustOpen(filepath.Join(t.TempDir(), "b"))
	gone, err := b.Reset(context.Background(), func(ns state.Namespace) bool { return ns.Table == "users" })
	require.NoError(t, err)
	require.Equal(t, []state.Namespace{users}, gone)
	require.NoError(t, b.Close())
	require.Zero(t, w.rows())
	a = w.mustOpen(dirA)
	_, _, ok := lookup(t, a, "u00000")
	require.False(t, ok, "machine a forgot the reset namespace too")
	require.NoError(t, a.Close())
}

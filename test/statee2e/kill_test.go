package statee2e

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
)

// TestKilledRunResumes: a paced run is killed with SIGKILL — brazesync, the source and the
// destination at once — at a random point, then run again to its end. Braze ends exactly equal to
// the source, and the objects sent twice are no more than the objects in flight at the kill:
// those Braze had received but the state had not recorded, at most 2 × concurrency × batch_size
// (each worker has one request on the wire and one answer being recorded).
// Several kill points, each with a fresh emulator and state folder.
func TestKilledRunResumes(t *testing.T) {
	const (
		n           = 12_000
		concurrency = 4
		batchSize   = 75
	)
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill points from seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	us := population(n, nil)
	file := writeUsers(t, dir, "users.parquet", us)
	for k := range 4 {
		// The paced run takes ~3.7 s: start-up, then 160 requests at 60/s. Kill anywhere in it.
		after := time.Duration(500+rng.IntN(3000)) * time.Millisecond
		t.Run(after.String(), func(t *testing.T) {
			emu := startBraze(t)
			// Slow answers keep requests on the wire, so the kill finds some in flight.
			emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 30 * time.Millisecond, After: 1})
			stateDir := filepath.Join(t.TempDir(), "state")
			extra := []string{"concurrency: 4", "batch_size: 75", "rate_limit: 60", "rate_window: 1s"}
			run := start(t, emu, specFor(file, stateDir, extra...))
			time.Sleep(after)
			run.KillAll()
			run.Wait(t, time.Minute)
			quiesce(emu)
			received := emu.Stats().ObjectsReceived
			committed := 0
			if _, err := os.Stat(filepath.Join(stateDir, "brazesync-state.json")); err == nil {
				_, recs := recorded(t, stateDir)
				committed = len(recs)
			}
			inFlight := received - int64(committed)
			t.Logf("kill %d at %s: Braze had received %d objects, the state recorded %d users: %d in flight",
				k, after, received, committed, inFlight)
			if inFlight < 0 || inFlight > 2*concurrency*batchSize {
				t.Fatalf("%d objects received but not recorded: more than the %d a run can have in flight",
					inFlight, 2*concurrency*batchSize)
			}

			emu.SetFaults()
			res := sync(t, emu, specFor(file, stateDir, "concurrency: 4", "batch_size: 75", "rate_limit: -1"), 0)
			total := emu.Stats().ObjectsReceived
			twice := total - n
			if res.Report.UsersSent != int64(n-committed) {
				t.Errorf("the resumed run sent %d users, want the %d not recorded", res.Report.UsersSent, n-committed)
			}
			if twice > inFlight {
				t.Fatalf("%d objects sent twice, more than the %d in flight at the kill", twice, inFlight)
			}
			assertBrazeEqualsSource(t, emu, us)
			assertStoreEqualsSource(t, stateDir, us)
		})
	}
}

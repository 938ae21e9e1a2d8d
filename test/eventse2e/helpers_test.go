package eventse2e

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

const apiKey = "sk-eventse2e-SECRET-51c2"

func startBraze(t *testing.T) *brazeemu.Emulator {
	return emutest.Braze(t, brazeemu.Options{APIKeys: []string{apiKey}})
}

func env(emu *brazeemu.Emulator) map[string]string {
	return map[string]string{"BRAZE_API_KEY": apiKey, "BRAZE_ENDPOINT": emu.URL()}
}

// specFor is a sync spec reading the activity and purchases files of dataDir into Braze, keeping
// its state in stateDir; extra lines go into the destination's spec.
func specFor(dataDir, stateDir string, extra ...string) string {
	src := testbin.FileSource(filepath.Join(dataDir, "activity.parquet"), "  - path: "+filepath.Join(dataDir, "purchases.parquet"))
	lines := append([]string{"state_dir: " + stateDir}, purchasesTable...)
	return testbin.Spec(src, testbin.BrazeDestination("E2E", append(lines, extra...)...))
}

// sync runs brazesync to its end and fails the test unless it exits with want and, for 0, a
// balanced report; the secret never appears in what the run leaves.
func sync(t *testing.T, emu *brazeemu.Emulator, spec string, want int) testbin.Result {
	t.Helper()
	return testbin.SyncExpect(t, spec, testbin.SyncOptions{Env: env(emu)}, want, apiKey)
}

// deadLetters reads a run's dead-letter file.
func deadLetters(t *testing.T, res testbin.Result) []destination.DeadLetterLine {
	t.Helper()
	lines, err := destination.ReadDeadLetters(filepath.Join(res.Dir, "dead.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// objectNumber reads a numeric property of a dead-lettered object (-1 when absent).
func objectNumber(t *testing.T, l destination.DeadLetterLine, prop string) int64 {
	t.Helper()
	var obj struct {
		Properties map[string]any `json:"properties"`
	}
	dec := json.NewDecoder(bytes.NewReader(l.Object))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("dead-lettered object %s: %v", l.Object, err)
	}
	n, ok := obj.Properties[prop].(json.Number)
	if !ok {
		return -1
	}
	v, err := n.Int64()
	if err != nil {
		return -1
	}
	return v
}

// landed counts the events per seq and the purchases per line_id in the emulator.
func landed(emu *brazeemu.Emulator) (events, purchases map[int64]int) {
	events, purchases = map[int64]int{}, map[int64]int{}
	for _, ev := range emu.Events() {
		events[seqOf(ev)]++
	}
	for _, pu := range emu.Purchases() {
		purchases[lineOf(pu)]++
	}
	return events, purchases
}

// quiesce waits until the emulator has seen no new request for a while (killed runs' last
// requests drain).
func quiesce(emu *brazeemu.Emulator) {
	last := emu.Stats()
	for stable := 0; stable < 5; {
		time.Sleep(50 * time.Millisecond)
		s := emu.Stats()
		if s.Requests == last.Requests && s.Events == last.Events && s.Purchases == last.Purchases {
			stable++
		} else {
			stable = 0
		}
		last = s
	}
}

// start runs brazesync sync on spec in a new process group and returns at once.
func start(t *testing.T, emu *brazeemu.Emulator, spec string) *testbin.Started {
	t.Helper()
	return testbin.Start(t, spec, testbin.SyncOptions{Env: env(emu)})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

package pluginserver

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/emutest"
)

// TestDrainAcrossBoundary: a Drain sent over the boundary — here before the stream's writer is even
// open, as a signal during the key check would — stops every request but the key check; the rows
// are dead-lettered as run_cancelled and the final report says cancelled.
func TestDrainAcrossBoundary(t *testing.T) {
	const key = "drain-test-key"
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}, RateLimit: -1})
	c := dial(t, false)
	ctx := context.Background()
	spec, _ := json.Marshal(map[string]any{"api_key": key, "endpoint": emu.URL(), "update_existing_only": false,
		"dead_letter_file": t.TempDir() + "/dead.jsonl", "state_dir": t.TempDir()})
	if err := c.Configure(ctx, "braze", "run-d", spec); err != nil {
		t.Fatal(err)
	}
	if err := c.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := c.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := bigRecord(1_000)
	defer rec.Release()
	if err := s.Send(rec); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	rep, final, err := s.CloseAndWait(wctx)
	if !final || rep == nil {
		t.Fatalf("no final report: %v", err)
	}
	if err == nil {
		t.Errorf("a drained run ends with an error (cancelled), got %v", err)
	}
	if rep.Status != "cancelled" || !rep.Balanced() || rep.RowsRejected["run_cancelled"] != 1_000 || rep.UsersSent != 0 {
		t.Errorf("report: status %s sent %d rejected %v", rep.Status, rep.UsersSent, rep.RowsRejected)
	}
	if n := emu.Stats().Requests; n != 1 {
		t.Errorf("%d requests reached Braze, want only the key check", n)
	}
}

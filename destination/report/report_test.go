package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sample() *Report {
	r := New("run-1", time.Unix(1000, 0))
	r.RowsRead = 10
	r.UsersSent = 5
	r.RowsMerged = 1
	r.RowsSkipped["null_key"] = 2
	r.RowsRejected["invalid_value"] = 2
	return r
}

// TestBalanced: the invariant rows_read = sent + merged + skipped + rejected (+ unaccounted).
func TestBalanced(t *testing.T) {
	r := sample()
	if !r.Balanced() || r.Accounted() != 10 {
		t.Fatalf("balanced=%v accounted=%d", r.Balanced(), r.Accounted())
	}
	r.RowsRead++
	if r.Balanced() {
		t.Fatal("one row unaccounted must unbalance the report")
	}
	r.RowsUnaccounted = 1
	if !r.Balanced() {
		t.Fatal("rows declared unaccounted balance it again")
	}
	if !strings.Contains(sample().Summary(), "rows read:      10") {
		t.Errorf("summary:\n%s", sample().Summary())
	}
	r.RowsUnaccounted = 0
	if !strings.Contains(r.Summary(), "WARNING") {
		t.Errorf("an unbalanced report's summary must warn:\n%s", r.Summary())
	}
}

func TestMergeAddsEverything(t *testing.T) {
	a, b := sample(), sample()
	b.MinorErrors["bad email"] = 3
	b.Requests, b.Retries, b.RateLimited, b.BytesSent, b.EstimatedDataPoints = 4, 2, 1, 100, 7
	a.Merge(b)
	if a.RowsRead != 20 || a.UsersSent != 10 || a.RowsMerged != 2 || a.Skipped() != 4 || a.Rejected() != 4 ||
		a.MinorErrors["bad email"] != 3 || a.Requests != 4 || a.Retries != 2 || a.RateLimited != 1 ||
		a.BytesSent != 100 || a.EstimatedDataPoints != 7 || !a.Balanced() {
		t.Fatalf("merged: %+v", a)
	}
}

// TestFinishAndWriteFile: duration and rate are derived, the file is complete JSON and no temp file
// is left behind.
func TestFinishAndWriteFile(t *testing.T) {
	r := sample()
	r.Finish(StatusSuccess, nil, time.Unix(1002, 0))
	if r.DurationSeconds != 2 || r.RowsPerSecond != 5 {
		t.Fatalf("duration %v rate %v", r.DurationSeconds, r.RowsPerSecond)
	}
	path := filepath.Join(t.TempDir(), "sub", "report.json")
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	var back Report
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &back); err != nil || back.RowsRead != 10 || back.Status != StatusSuccess {
		t.Fatalf("read back %+v, %v", back, err)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temp file left behind: %v", err)
	}
}

// TestTallySnapshotIsACopy: a snapshot does not change when the tally goes on.
func TestTallySnapshotIsACopy(t *testing.T) {
	tl := NewTally("r", time.Unix(0, 0))
	tl.Update(func(r *Report) { r.RowsSkipped["x"] = 1 })
	snap := tl.Snapshot(time.Unix(1, 0))
	tl.Update(func(r *Report) { r.RowsSkipped["x"] = 5 })
	if snap.RowsSkipped["x"] != 1 {
		t.Fatalf("snapshot changed with the tally: %v", snap.RowsSkipped)
	}
}

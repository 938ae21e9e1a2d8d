package statee2e

import (
	"testing"
)

// TestResyncCostsOnlyTheChange: 100,000 users through the real binaries. An identical second run
// sends no user object and costs no data point; changing one attribute of 1% of the users costs at
// most 1.05% of the first run's objects and 2% of its data points; the state then records exactly
// what the source holds, and Braze holds it too.
func TestResyncCostsOnlyTheChange(t *testing.T) {
	const n = 100_000
	emu := startBraze(t)
	dir := t.TempDir()
	stateDir := dir + "/state"
	base := population(n, nil)
	spec := specFor(writeUsers(t, dir, "users.parquet", base), stateDir, "rate_limit: -1")

	first := sync(t, emu, spec, 0)
	s1 := emu.Stats()
	if first.Report.UsersSent != n || s1.ObjectsReceived != n || s1.DataPoints == 0 {
		t.Fatalf("first run: %d users sent, %d objects, %d data points", first.Report.UsersSent, s1.ObjectsReceived, s1.DataPoints)
	}

	second := sync(t, emu, spec, 0)
	s2 := emu.Stats()
	if objects, points := s2.ObjectsReceived-s1.ObjectsReceived, s2.DataPoints-s1.DataPoints; objects != 0 || points != 0 {
		t.Fatalf("identical re-sync: %d objects, %d data points (want 0 and 0)", objects, points)
	}
	if second.Report.RowsUnchanged != n || second.Report.UsersSent != 0 || second.Report.DataPointsSaved != s1.DataPoints {
		t.Fatalf("identical re-sync report: %d unchanged, %d sent, %d data points saved (first run cost %d)",
			second.Report.RowsUnchanged, second.Report.UsersSent, second.Report.DataPointsSaved, s1.DataPoints)
	}

	changed := population(n, func(i int) bool { return i%100 == 0 })
	// The same file name: the file source names its table after it, and the state is per table.
	third := sync(t, emu, specFor(writeUsers(t, t.TempDir(), "users.parquet", changed), stateDir, "rate_limit: -1"), 0)
	s3 := emu.Stats()
	objects, points := s3.ObjectsReceived-s2.ObjectsReceived, s3.DataPoints-s2.DataPoints
	t.Logf("1%% changed: %d objects (%.3f%% of the first run's), %d data points (%.3f%%)",
		objects, 100*float64(objects)/float64(s1.ObjectsReceived), points, 100*float64(points)/float64(s1.DataPoints))
	if float64(objects) > 0.0105*float64(s1.ObjectsReceived) || float64(points) > 0.02*float64(s1.DataPoints) || objects == 0 {
		t.Fatalf("1%% changed cost %d objects and %d data points; first run %d and %d", objects, points,
			s1.ObjectsReceived, s1.DataPoints)
	}
	if third.Report.UsersSent != objects {
		t.Errorf("report says %d users sent, Braze received %d objects", third.Report.UsersSent, objects)
	}
	assertStoreEqualsSource(t, stateDir, changed)
	assertBrazeEqualsSource(t, emu, changed)
}

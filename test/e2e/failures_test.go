package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// smallBatches reads the sample in 250-row records, so a plugin failure lands mid-stream, into a
// destination run from the plugin binary at path.
func smallBatches(path string) string {
	dest := strings.Replace(testbin.BrazeDestination("E2E", "concurrency: 2"),
		"path: {{BIN}}/braze-destination", "path: "+path, 1)
	return testbin.Spec(testbin.FileSource("{{ROOT}}/docs/examples/data/users.csv", "batch_rows: 250"), dest)
}

// TestPluginFailureModes: each way a destination plugin can fail ends the run with exit code 4, a
// message naming the plugin, and a report that says what was delivered before it failed.
func TestPluginFailureModes(t *testing.T) {
	const key = "e2e-failures-key-0c3e"
	tests := []struct {
		name    string
		path    string
		env     map[string]string
		args    []string
		wantMsg string
		midRun  bool // rows reached the plugin before it failed
	}{
		{name: "binary missing", path: "{{BIN}}/no-such-destination", wantMsg: "no-such-destination"},
		// file-source is a CloudQuery plugin, not a go-plugin one: the handshake fails.
		{name: "wrong handshake", path: "{{BIN}}/file-source", wantMsg: "file-source"},
		{name: "crash mid-stream", path: "{{HOOKED}}", env: map[string]string{"BRAZESYNC_TEST_PANIC_AFTER_ROWS": "2000"},
			wantMsg: "exited unexpectedly", midRun: true},
		{name: "hang", path: "{{HOOKED}}", env: map[string]string{"BRAZESYNC_TEST_HANG_AFTER_ROWS": "1000"},
			args: []string{"--stall-timeout", "2s"}, wantMsg: "hung", midRun: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}})
			env := map[string]string{"BRAZE_API_KEY": key, "BRAZE_ENDPOINT": emu.URL()}
			for k, v := range tc.env {
				env[k] = v
			}
			path := strings.Replace(tc.path, "{{HOOKED}}", testbin.HookedDestination(t), 1)
			res := syncSpec(t, smallBatches(path), env, tc.args...)
			if res.Code != runner.ExitPlugin {
				t.Errorf("exit code %d, want %d\n%s", res.Code, runner.ExitPlugin, testbin.Tail(res.Stderr, 3000))
			}
			if !strings.Contains(res.Stderr, tc.wantMsg) || !mentions(res.Stderr, `destination "braze"`) {
				t.Errorf("stderr does not name the plugin and %q:\n%s", tc.wantMsg, testbin.Tail(res.Stderr, 3000))
			}
			rep := res.Report
			if rep == nil || rep.Status != "failed" {
				t.Fatalf("report missing or not failed: %+v", rep)
			}
			d := rep.Destinations["braze"]
			if !tc.midRun {
				return
			}
			if d == nil || d.RowsRead == 0 || !d.Balanced() {
				t.Fatalf("destination report does not account for the rows sent before the failure: %+v", d)
			}
			// What the report says was delivered really is in Braze (the report may lag, never lead).
			if got := int64(len(emu.Profiles())); got < d.UsersSent {
				t.Errorf("report says %d users sent, Braze holds %d", d.UsersSent, got)
			}
			testbin.AssertNoSecret(t, res, key)
		})
	}
}

// TestSIGTERMWritesReport: SIGTERM stops reading, gives requests in flight the shutdown deadline,
// then aborts the rest (dead-lettered as cancelled), writes a balanced report and exits 130.
func TestSIGTERMWritesReport(t *testing.T) {
	const key = "e2e-sigterm-key-4f4f"
	const rows = 300_000
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}, RateLimit: -1})
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 20 * time.Millisecond})
	dir := t.TempDir()
	data := filepath.Join(dir, "users.parquet")
	writeNarrowParquet(t, data, rows)
	spec := strings.NewReplacer("{{BIN}}", testbin.Dir(t), "{{ROOT}}", testbin.Root()).
		Replace(fileToBraze(data, "concurrency: 2"))
	specPath := filepath.Join(dir, "spec.yml")
	if err := os.WriteFile(specPath, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	reportPath := filepath.Join(dir, "report.json")
	cmd := exec.Command(testbin.Path(t, "brazesync"), "sync", "--log-format", "json", "--progress", "plain",
		"--progress-interval", "100ms", "--shutdown-timeout", "2s", "--report", reportPath, specPath)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BRAZE_API_KEY="+key, "BRAZE_ENDPOINT="+emu.URL())
	var stderr testbin.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	// Signal once requests are flowing and a progress line has shown the ETA.
	for (emu.Stats().Requests < 20 || !strings.Contains(stderr.String(), "ETA")) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != runner.ExitCancelled {
		t.Fatalf("exit %v, want %d\n%s", err, runner.ExitCancelled, testbin.Tail(stderr.String(), 3000))
	}
	// The Parquet source announced its row count: plain progress lines carry an ETA.
	if !strings.Contains(stderr.String(), "rows/s") || !strings.Contains(stderr.String(), "ETA") {
		t.Errorf("no progress line with an ETA in the output:\n%s", testbin.Tail(stderr.String(), 3000))
	}
	var rep runner.RunReport
	b, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatalf("no report after SIGTERM: %v", err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("after SIGTERM: read %d, sent %d, rejected %v, unaccounted %d", rep.RowsRead, rep.UsersSent, rep.RowsRejected, rep.RowsUnaccounted)
	if rep.Status != "cancelled" || !rep.Balanced() || rep.RowsUnaccounted != 0 || rep.RowsRead == 0 || rep.RowsRead >= rows {
		t.Errorf("report after SIGTERM: status %s read %d accounted %d unaccounted %d", rep.Status, rep.RowsRead, rep.Accounted(), rep.RowsUnaccounted)
	}
	if got := int64(len(emu.Profiles())); got < rep.UsersSent {
		t.Errorf("Braze holds %d users, report says %d sent", got, rep.UsersSent)
	}
}

// mentions reports whether the log holds s, as text or inside a JSON string (quotes escaped).
func mentions(log, s string) bool {
	return strings.Contains(log, s) || strings.Contains(log, strings.ReplaceAll(s, `"`, `\"`))
}

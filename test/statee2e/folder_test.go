package statee2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestConcurrentRunsOnOneStateFolder: while one run holds a state folder, a second run on it is
// refused at once with an error naming the holder (run id and pid), before any request; the first
// run goes on to its end.
func TestConcurrentRunsOnOneStateFolder(t *testing.T) {
	emu := startBraze(t)
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	file := writeUsers(t, dir, "users.parquet", population(1500, nil))
	first := start(t, emu, specFor(file, stateDir, "rate_limit: 10", "rate_window: 1s"))
	holder := waitForHolder(t, stateDir)

	second := sync(t, emu, specFor(file, stateDir, "rate_limit: -1"), 2)
	want := fmt.Sprintf("in use by run %s (pid %d", holder.RunID, holder.PID)
	if !strings.Contains(second.Stderr, want) {
		t.Fatalf("the refused run does not say %q:\n%s", want, testbin.Tail(second.Stderr, 2000))
	}
	if second.Report == nil || second.Report.Requests != 0 || second.Report.UsersSent != 0 {
		t.Errorf("the refused run sent requests: %+v", second.Report)
	}
	if code := first.Wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("the first run exited %d:\n%s", code, testbin.Tail(first.Stderr.String(), 2000))
	}
	if rep := first.Report(t); rep.UsersSent != 1500 || rep.RunID != holder.RunID {
		t.Fatalf("first run: %d users sent, run id %s, holder %+v", rep.UsersSent, rep.RunID, holder)
	}
}

// waitForHolder waits until a run holds the folder and returns what its lock names.
func waitForHolder(t *testing.T, stateDir string) state.Holder {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(stateDir, "brazesync-state.lock"))
		var h state.Holder
		if json.Unmarshal(b, &h) == nil && h.PID != 0 {
			return h
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no run took the state folder")
	return state.Holder{}
}

// TestDamagedStateFolderIsRefused: a truncated or garbled state folder fails the run with a clear
// error and the fix, before any request — never a silent full re-send.
func TestDamagedStateFolderIsRefused(t *testing.T) {
	damage := map[string]func(t *testing.T, dir string){
		"truncated tables": func(t *testing.T, dir string) {
			for _, f := range glob(t, dir, "*.sst") {
				fi, _ := os.Stat(f)
				if err := os.Truncate(f, fi.Size()/3); err != nil {
					t.Fatal(err)
				}
			}
		},
		"garbled tables": func(t *testing.T, dir string) {
			for _, f := range glob(t, dir, "*.sst") {
				b, _ := os.ReadFile(f)
				for i := len(b) / 4; i < len(b); i += 97 {
					b[i] ^= 0xa5
				}
				if err := os.WriteFile(f, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		},
		"garbled manifest": func(t *testing.T, dir string) {
			for _, f := range glob(t, dir, "MANIFEST-*") {
				if err := os.WriteFile(f, []byte(strings.Repeat("garbage ", 64)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		},
		"marker deleted": func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "brazesync-state.json")); err != nil {
				t.Fatal(err)
			}
		},
	}
	dir := t.TempDir()
	file := writeUsers(t, dir, "users.parquet", population(20_000, nil))
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			emu := startBraze(t)
			stateDir := filepath.Join(t.TempDir(), "state")
			spec := specFor(file, stateDir, "rate_limit: -1")
			sync(t, emu, spec, 0)
			fn(t, stateDir)
			before := emu.Stats()
			res := sync(t, emu, spec, 2)
			after := emu.Stats()
			if !strings.Contains(res.Stderr, "damaged") || !strings.Contains(res.Stderr, "move the folder away") {
				t.Fatalf("no clear error:\n%s", testbin.Tail(res.Stderr, 2000))
			}
			if after.ObjectsReceived != before.ObjectsReceived {
				t.Fatalf("%d objects sent with a damaged state", after.ObjectsReceived-before.ObjectsReceived)
			}
		})
	}
}

// TestNoSecretUnderStateDir: after a run, no file under state_dir holds the API key (nor a value).
func TestNoSecretUnderStateDir(t *testing.T) {
	emu := startBraze(t)
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	sync(t, emu, specFor(writeUsers(t, dir, "users.parquet", population(5000, nil)), stateDir, "rate_limit: -1"), 0)
	files := 0
	err := filepath.Walk(stateDir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), apiKey) || strings.Contains(string(b), "segment-3") {
			t.Errorf("%s holds the API key or an attribute value", path)
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("walking %s: %d files, %v", stateDir, files, err)
	}
}

func glob(t *testing.T, dir, pattern string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) == 0 {
		t.Fatalf("no %s in %s", pattern, dir)
	}
	return m
}

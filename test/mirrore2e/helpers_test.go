package mirrore2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

const (
	apiKey = "sk-mirrore2e-SECRET-5d1a"
	label  = "VIP_Q4"
)

// user is one source row: external_id, braze[score], braze[segment].
type user struct {
	id      string
	score   int64
	segment string
}

func newUser(i int) user {
	return user{id: fmt.Sprintf("user-%07d", i), score: int64(i % 997), segment: fmt.Sprintf("segment-%d", i%7)}
}

// population is users from..to-1.
func population(from, to int) []user {
	us := make([]user, 0, to-from)
	for i := from; i < to; i++ {
		us = append(us, newUser(i))
	}
	return us
}

// departs picks every tenth user of the first run.
func departs(i int) bool { return i%10 == 7 }

// writeUsers writes users as a Parquet file in dir and returns its path.
func writeUsers(t *testing.T, dir, name string, us []user) string {
	t.Helper()
	path := filepath.Join(dir, name)
	testbin.WriteUsers(t, path, len(us), func(i int) (string, int64, string) { return us[i].id, us[i].score, us[i].segment })
	return path
}

// mirrorSpec is a file source reading file into a braze destination in mirror mode (write_mode
// overwrite-delete-stale), its state in stateDir, srcExtra added to the source's spec; the table is the file's name ("users" for
// users.parquet). srcBin is the file source's folder.
func mirrorSpec(srcBin, file, stateDir string, srcExtra []string, extra ...string) string {
	dest := testbin.BrazeDestination(label, append([]string{"state_dir: " + stateDir, "rate_limit: -1"}, extra...)...)
	src := strings.Replace(testbin.FileSource(file, srcExtra...), "{{BIN}}/file-source", srcBin+"/file-source", 1)
	return testbin.Spec(src, strings.Replace(dest, "write_mode: append", "write_mode: overwrite-delete-stale", 1))
}

func startBraze(t *testing.T) *brazeemu.Emulator {
	return emutest.Braze(t, brazeemu.Options{APIKeys: []string{apiKey}, RateLimit: -1})
}

func env(emu *brazeemu.Emulator) map[string]string {
	return map[string]string{"BRAZE_API_KEY": apiKey, "BRAZE_ENDPOINT": emu.URL()}
}

// runSync runs brazesync to its end and fails the test unless it exits with want.
func runSync(t *testing.T, emu *brazeemu.Emulator, spec string, want int, args ...string) testbin.Result {
	t.Helper()
	return testbin.SyncExpect(t, spec, testbin.SyncOptions{Env: env(emu), Args: args}, want, apiKey)
}

// labels is the user's looker_export array.
func labels(p brazeemu.Profile) []string {
	var out []string
	vs, _ := p.Custom["looker_export"].([]any)
	for _, v := range vs {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func flagged(p brazeemu.Profile) bool { return slices.Contains(labels(p), label) }

// snapshot is every profile's custom attributes, by external_id.
func snapshot(emu *brazeemu.Emulator) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, p := range emu.Profiles() {
		out[p.ExternalID] = p.Custom
	}
	return out
}

// countFlagged is how many profiles carry the label.
func countFlagged(emu *brazeemu.Emulator) int {
	n := 0
	for _, p := range emu.Profiles() {
		if flagged(p) {
			n++
		}
	}
	return n
}

var (
	hookedOnce sync.Once
	hookedDir  string
	hookedErr  error
)

// hookedFileSource is a file-source built with the failure-mode hooks, for a source that fails in
// the middle of its table (BRAZESYNC_TEST_SOURCE_PANIC_AFTER_ROWS); release binaries have none.
func hookedFileSource(t *testing.T) string {
	t.Helper()
	hookedOnce.Do(func() {
		hookedDir, hookedErr = os.MkdirTemp("", "mirrore2e-hooked-")
		if hookedErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-tags", testbin.TestHooksTag, "-o", hookedDir+string(os.PathSeparator), "./plugin/cmd/file-source")
		cmd.Dir = testbin.Root()
		if out, err := cmd.CombinedOutput(); err != nil {
			hookedErr = fmt.Errorf("%w\n%s", err, out)
		}
	})
	if hookedErr != nil {
		t.Fatalf("building the hooked file-source: %v", hookedErr)
	}
	return hookedDir
}

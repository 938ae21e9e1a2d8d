package eventse2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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
	res := testbin.Sync(t, spec, testbin.SyncOptions{Env: env(emu)})
	if res.Code != want {
		t.Fatalf("brazesync sync exited %d, want %d\nstderr:\n%s", res.Code, want, tail(res.Stderr, 4000))
	}
	if res.Report == nil || !res.Report.Balanced() {
		t.Fatalf("report missing or unbalanced: %+v", res.Report)
	}
	testbin.AssertNoSecret(t, res, apiKey)
	return res
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
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

// running is a `brazesync sync` started in its own process group, to be killed.
type running struct {
	cmd  *exec.Cmd
	done chan error
	errb *bytes.Buffer
}

func start(t *testing.T, emu *brazeemu.Emulator, spec string) *running {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "spec.yml")
	spec = strings.NewReplacer("{{BIN}}", testbin.Dir(t), "{{ROOT}}", testbin.Root()).Replace(spec)
	if err := os.WriteFile(path, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testbin.Path(t, "brazesync"), "sync", "--log-format", "json", "--report", filepath.Join(dir, "report.json"), path)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env(emu) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r := &running{cmd: cmd, done: make(chan error, 1), errb: &bytes.Buffer{}}
	cmd.Stderr = r.errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() { r.killAll(); <-r.done })
	return r
}

// killAll sends SIGKILL to brazesync and every process below it at once, as when a machine or a
// pod dies: nobody gets to write anything more.
func (r *running) killAll() {
	if r.cmd.Process == nil {
		return
	}
	testbin.KillTree(r.cmd.Process.Pid)
}

// wait waits for the killed run to be gone.
func (r *running) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
	case <-time.After(time.Minute):
		t.Fatal("the killed run did not end")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

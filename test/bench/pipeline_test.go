package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/procstat"
	"github.com/brazesync/brazesync/test/testbin"
)

const benchKey = "bench-key-5521"

// emulatorProc is a Braze emulator running as its own process (`brazesync emulator
// braze`), so its CPU is not mixed with brazesync's.
type emulatorProc struct {
	cmd *exec.Cmd
	url string
	// poll makes runSync sample the accepted-request counter during the run, to measure
	// the steady request rate (syncRun.steadyRate).
	poll bool
}

func startEmulator(b *testing.B, args ...string) *emulatorProc {
	b.Helper()
	return startProc(b, nil, append([]string{"emulator", "braze", "--listen", "127.0.0.1:0", "--api-key", benchKey}, args...)...)
}

// startProc starts `brazesync ARGS` (an emulator) and waits for its "listening on URL".
func startProc(b *testing.B, env []string, args ...string) *emulatorProc {
	b.Helper()
	cmd := exec.Command(testbin.Path(b, "brazesync"), args...)
	cmd.Env = append(append(os.Environ(), "BRAZE_API_KEY="), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting %v: %v", args, err)
	}
	e := &emulatorProc{cmd: cmd}
	b.Cleanup(e.stop)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("%v did not start: %v", args, err)
	}
	u, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		b.Fatalf("emulator said %q", line)
	}
	e.url = u
	return e
}

func (e *emulatorProc) stop() {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	_ = e.cmd.Wait()
}

func (e *emulatorProc) control(b *testing.B, method, path string, v any) {
	b.Helper()
	req, _ := http.NewRequest(method, e.url+"/_emulator/"+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatalf("emulator %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b.Fatalf("emulator %s: %s", path, resp.Status)
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			b.Fatalf("emulator %s: %v", path, err)
		}
	}
}

func (e *emulatorProc) stats(b *testing.B) brazeemu.Stats {
	var s brazeemu.Stats
	e.control(b, http.MethodGet, "stats", &s)
	return s
}

func (e *emulatorProc) cpu() time.Duration {
	st, _ := procstat.Read(e.cmd.Process.Pid)
	return st.CPU
}

func (e *emulatorProc) peak() int64 {
	st, _ := procstat.Read(e.cmd.Process.Pid)
	return st.Peak
}

// fileSpec is the file source reading path into the shared Braze destination with extra spec lines.
func fileSpec(path string, extra ...string) string {
	return testbin.Spec(testbin.FileSource(path), testbin.BrazeDestination("BENCH", extra...))
}

// syncRun is one finished `brazesync sync` and what it cost.
type syncRun struct {
	rows   int64
	wall   time.Duration
	cpu    time.Duration // runner and every plugin, from the runner's rusage (children included)
	procs  map[string]procStat
	report runner.RunReport
	emuCPU time.Duration
	emu    brazeemu.Stats
	// steadyRate is accepted (201) requests per second between the first and the last
	// accepted request, start-up and shut-down excluded (only with emulatorProc.poll).
	steadyRate float64
}

func (r syncRun) rowsPerSec() float64 { return float64(r.rows) / r.wall.Seconds() }

// cpuPerMillion is core-seconds per million rows.
func (r syncRun) cpuPerMillion() float64 { return r.cpu.Seconds() / float64(r.rows) * 1e6 }

// runSync runs `brazesync sync` on spec (with {{BIN}} replaced) against emu, following its
// process tree, and fails unless every row was delivered and Braze processed every object sent.
func runSync(b *testing.B, emu *emulatorProc, spec string, rows int64, env ...string) syncRun {
	b.Helper()
	run := execSync(b, emu, spec, rows, env...)
	if got := run.report.UsersSent + run.report.RowsMerged; got != rows || !run.report.Balanced() {
		b.Fatalf("not every row delivered: sent %d + merged %d of %d (report %+v)", run.report.UsersSent, run.report.RowsMerged, rows, run.report.Report)
	}
	if run.emu.AttributesProcessed != run.report.UsersSent {
		b.Fatalf("emulator processed %d objects, brazesync reports %d sent", run.emu.AttributesProcessed, run.report.UsersSent)
	}
	b.Logf("%d rows in %v: %.0f rows/s, brazesync CPU %v, emulator CPU %v, %d requests, %d rate limited",
		rows, run.wall.Round(time.Millisecond), run.rowsPerSec(), run.cpu, run.emuCPU, run.emu.Requests, run.emu.RateLimited)
	return run
}

// execSync runs one `brazesync sync` on spec into a reset emu, in a folder of its own (the
// profiling builds when $BENCH_PROFILE_DIR is set), and returns what it cost and reported. A
// failed run fails the benchmark; the report is the caller's to check.
func execSync(b *testing.B, emu *emulatorProc, spec string, rows int64, env ...string) syncRun {
	b.Helper()
	emu.control(b, http.MethodPost, "reset", nil)
	dir := b.TempDir()
	bin := testbin.Dir(b)
	if p := os.Getenv("BENCH_PROFILE_DIR"); p != "" {
		bin = profiledBin(b, p)
	}
	spec = strings.ReplaceAll(spec, "{{BIN}}", bin)
	specPath := filepath.Join(dir, "spec.yml")
	if err := os.WriteFile(specPath, []byte(spec), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "brazesync"), "sync", "--log-format", "json",
		"--progress", "none", "--report", filepath.Join(dir, "report.json"), specPath)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "BRAZE_API_KEY="+benchKey, "BRAZE_ENDPOINT="+emu.url), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	emuCPU := emu.cpu()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w := watchTree(cmd.Process.Pid)
	var poll *acceptPoller
	if emu.poll {
		poll = pollAccepted(emu.url)
	}
	err := cmd.Wait()
	wall := time.Since(start)
	w.stop()
	if err != nil {
		b.Fatalf("brazesync sync: %v\n%s", err, testbin.Tail(stderr.String(), 4000))
	}
	run := syncRun{rows: rows, wall: wall, procs: w.byName(), emuCPU: emu.cpu() - emuCPU, emu: emu.stats(b)}
	run.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if poll != nil {
		run.steadyRate = poll.stop()
	}
	raw, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(raw, &run.report); err != nil {
		b.Fatal(err)
	}
	return run
}

// procNames are brazesync's processes as /proc names them (15 characters at most).
var procNames = []struct{ proc, label string }{
	{"brazesync", "runner (brazesync)"},
	{"braze-destinati", "braze-destination"},
	{"file-source", "file-source"},
}

// sourceProcs are the other sources' process names.
var sourceProcs = []struct{ proc, label string }{
	{"snowflake-sourc", "snowflake-source"},
	{"looker-source", "looker-source"},
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// runsFromEnv is $name as a count, or def.
func runsFromEnv(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err == nil && n > 0 {
		return n
	}
	return def
}

// collect takes the median of each figure over runs.
func collect(runs []syncRun, f func(syncRun) float64) float64 {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = f(r)
	}
	return median(xs)
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// acceptPoller samples the emulator's count of 201 answers every 50 ms.
type acceptPoller struct {
	done chan struct{}
	out  chan float64
}

type acceptSample struct {
	at       time.Time
	accepted int
}

func pollAccepted(base string) *acceptPoller {
	p := &acceptPoller{done: make(chan struct{}), out: make(chan float64, 1)}
	go func() {
		var samples []acceptSample
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				p.out <- steadyRate(samples)
				return
			case <-t.C:
			}
			resp, err := http.Get(base + "/_emulator/stats")
			if err != nil {
				continue
			}
			var st brazeemu.Stats
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err == nil {
				samples = append(samples, acceptSample{time.Now(), st.Status[201]})
			}
		}
	}()
	return p
}

func (p *acceptPoller) stop() float64 {
	close(p.done)
	return <-p.out
}

// steadyRate is the accepted-request rate from the first sample showing any accepted
// request to the first sample showing the final count.
func steadyRate(xs []acceptSample) float64 {
	first, last := -1, -1
	for i, x := range xs {
		if first < 0 && x.accepted > 0 {
			first = i
		}
		if last < 0 || x.accepted > xs[last].accepted {
			last = i
		}
	}
	if first < 0 || last <= first {
		return 0
	}
	return float64(xs[last].accepted-xs[first].accepted) / xs[last].at.Sub(xs[first].at).Seconds()
}

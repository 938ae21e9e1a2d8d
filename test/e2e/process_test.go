package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/procstat"
	"github.com/brazesync/brazesync/test/testbin"
)

// liveSync is a `brazesync sync` running in the background, for tests that act on it while it
// runs: signals, SIGKILL, reading its children's environment.
type liveSync struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string
	stderr *testbin.Buffer
	exited chan struct{}
	err    error
}

// startSync writes spec ({{BIN}} and {{ROOT}} replaced) into a temporary folder and starts
// `brazesync sync` there with JSON logs, plain progress lines every 100 ms, and args.
func startSync(t *testing.T, spec string, env map[string]string, args ...string) *liveSync {
	t.Helper()
	dir := t.TempDir()
	spec = strings.NewReplacer("{{BIN}}", testbin.Dir(t), "{{ROOT}}", testbin.Root()).Replace(spec)
	specPath := filepath.Join(dir, "spec.yml")
	if err := os.WriteFile(specPath, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	all := append([]string{"sync", "--log-format", "json", "--progress", "plain", "--progress-interval", "100ms",
		"--report", filepath.Join(dir, "report.json")}, args...)
	cmd := exec.Command(testbin.Path(t, "brazesync"), append(all, specPath)...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	s := &liveSync{t: t, cmd: cmd, dir: dir, stderr: &testbin.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	cmd.WaitDelay = 2 * time.Second // an orphaned plugin holding stderr open must not hang the test
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		for _, c := range s.children() {
			_ = syscall.Kill(c, syscall.SIGKILL)
		}
		_ = cmd.Process.Kill()
		<-s.exited
	})
	return s
}

// signal sends sig to the runner only (not its process group), as `kill PID` does.
func (s *liveSync) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signalling brazesync: %v", err)
	}
}

// wait waits for the run to end, at most bound (then it is killed and the test fails), and returns
// its exit code and report.
func (s *liveSync) wait(bound time.Duration) (int, *runner.RunReport) {
	s.t.Helper()
	select {
	case <-s.exited:
	case <-time.After(bound):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Fatalf("brazesync still running after %s; stderr:\n%s", bound, testbin.Tail(s.stderr.String(), 3000))
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		code = ee.ExitCode()
	} else if s.err != nil {
		s.t.Fatalf("brazesync: %v", s.err)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "report.json"))
	if err != nil {
		s.t.Fatalf("no report: %v\n%s", err, testbin.Tail(s.stderr.String(), 3000))
	}
	var rep runner.RunReport
	if err := json.Unmarshal(b, &rep); err != nil {
		s.t.Fatalf("report is not JSON: %v", err)
	}
	return code, &rep
}

// waitFor polls cond until it holds; the bound only keeps a broken run from hanging the test.
func (s *liveSync) waitFor(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		select {
		case <-s.exited:
			s.t.Fatalf("brazesync exited before %s:\n%s", what, testbin.Tail(s.stderr.String(), 3000))
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no %s within a minute:\n%s", what, testbin.Tail(s.stderr.String(), 3000))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// children are the runner's running child processes (its plugins).
func (s *liveSync) children() []int {
	var out []int
	for _, pid := range procstat.Children(s.cmd.Process.Pid) {
		if running(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// running reports whether pid is a live process: a zombie (dead, not yet reaped) is not.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// procName is the kernel's name of pid (truncated to 15 characters).
func procName(pid int) string {
	st, _ := procstat.Read(pid)
	return st.Name
}

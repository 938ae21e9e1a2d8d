//go:build unix

package testbin

import (
	"context"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/runner"
)

// Started is a `brazesync sync` running in a process group of its own, for tests that kill it
// mid-run the way a pod eviction does.
type Started struct {
	Cmd    *exec.Cmd
	Dir    string  // the run's working folder, as Result.Dir
	Stderr *Buffer // its log so far
	done   chan error
}

// Start starts `brazesync sync` on spec as Sync does and returns at once. The test's cleanup
// kills whatever of it is still running.
func Start(t testing.TB, spec string, opts SyncOptions) *Started {
	t.Helper()
	cmd, dir := syncCommand(context.Background(), t, spec, opts)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s := &Started{Cmd: cmd, Dir: dir, Stderr: &Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { s.KillAll(); <-s.done })
	return s
}

// KillAll sends SIGKILL to brazesync and every process under it (sources run in process groups
// of their own) in one pass: the whole run dies at once, and nobody writes anything more.
func (s *Started) KillAll() {
	if s.Cmd.Process != nil {
		KillTree(s.Cmd.Process.Pid)
	}
}

// Wait waits up to timeout for the run to end and returns its exit code (-1 when killed).
func (s *Started) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup and later calls
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatalf("brazesync still running after %s\n%s", timeout, Tail(s.Stderr.String(), 2000))
	}
	return -1
}

// Report reads the run's report; the test fails if it wrote none.
func (s *Started) Report(t testing.TB) *runner.RunReport {
	t.Helper()
	rep := readReport(t, s.Dir)
	if rep == nil {
		t.Fatal("the run wrote no report")
	}
	return rep
}

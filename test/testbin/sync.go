package testbin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/runner"
)

// Result is one finished `brazesync sync` process.
type Result struct {
	Code   int
	Stdout string
	Stderr string
	Report *runner.RunReport // nil when the run wrote none
	Dir    string            // the run's working folder (spec, report, dead letters)
}

// SyncOptions adjust Sync.
type SyncOptions struct {
	Env   map[string]string // added to the environment
	Args  []string          // extra flags before the spec file
	Watch func(pid int) (stop func())
}

// Sync writes spec (with {{BIN}} and {{ROOT}} replaced by the binaries' and the repository's
// folders) into a temporary folder and runs `brazesync sync` there as a real subprocess, with a
// JSON log and report. It fails the test only if the process cannot run at all.
func Sync(t testing.TB, spec string, opts SyncOptions) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd, dir := syncCommand(ctx, t, spec, opts)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Start()
	if err == nil {
		stop := func() {}
		if opts.Watch != nil {
			stop = opts.Watch(cmd.Process.Pid)
		}
		err = cmd.Wait()
		stop()
	}
	res := Result{Stdout: stdout.String(), Stderr: stderr.String(), Dir: dir}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running brazesync: %v", err)
	}
	res.Report = readReport(t, dir)
	return res
}

// syncCommand writes spec (with {{BIN}} and {{ROOT}} replaced) into a temporary folder and returns
// the `brazesync sync` command to run there, with a JSON log and report, and the folder.
func syncCommand(ctx context.Context, t testing.TB, spec string, opts SyncOptions) (*exec.Cmd, string) {
	t.Helper()
	dir := t.TempDir()
	spec = strings.NewReplacer("{{BIN}}", Dir(t), "{{ROOT}}", Root()).Replace(spec)
	specPath := filepath.Join(dir, "spec.yml")
	if err := os.WriteFile(specPath, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"sync", "--log-format", "json", "--report", filepath.Join(dir, "report.json")}, opts.Args...)
	cmd := exec.CommandContext(ctx, Path(t, "brazesync"), append(args, specPath)...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range opts.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd, dir
}

// readReport reads the report a run left in dir; nil when it wrote none.
func readReport(t testing.TB, dir string) *runner.RunReport {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		return nil
	}
	rep := &runner.RunReport{}
	if err := json.Unmarshal(b, rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	return rep
}

// AssertNoSecret fails if secret appears in the run's output or in any file it left behind.
func AssertNoSecret(t testing.TB, res Result, secret string) {
	t.Helper()
	if strings.Contains(res.Stdout, secret) || strings.Contains(res.Stderr, secret) {
		t.Errorf("a secret appears in the output")
	}
	entries, _ := os.ReadDir(res.Dir)
	for _, e := range entries {
		if e.Name() == "spec.yml" || e.IsDir() {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(res.Dir, e.Name()))
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("a secret appears in %s", e.Name())
		}
	}
}

// SyncExpect is Sync that fails the test unless the run exits with want, leaves a balanced report,
// and shows secret nowhere in its output or files.
func SyncExpect(t testing.TB, spec string, opts SyncOptions, want int, secret string) Result {
	t.Helper()
	res := Sync(t, spec, opts)
	if res.Code != want {
		t.Fatalf("brazesync sync exited %d, want %d\nstderr:\n%s", res.Code, want, Tail(res.Stderr, 4000))
	}
	if res.Report == nil || !res.Report.Balanced() {
		t.Fatalf("report missing or unbalanced: %+v", res.Report)
	}
	AssertNoSecret(t, res, secret)
	return res
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/testbin"
)

// result is one finished `brazesync sync` process.
type result struct {
	code   int
	stdout string
	stderr string
	report *runner.RunReport
	dir    string
}

// syncSpec writes spec (with {{BIN}} and {{ROOT}} replaced) into a temp folder and runs
// `brazesync sync` there as a real subprocess, with env added to the environment.
func syncSpec(t *testing.T, spec string, env map[string]string, extraArgs ...string) result {
	t.Helper()
	return syncSpecWatched(t, spec, env, nil, extraArgs...)
}

// syncSpecWatched is syncSpec with the process's memory sampled while it runs.
func syncSpecWatched(t *testing.T, spec string, env map[string]string, rss *rssSampler, extraArgs ...string) result {
	t.Helper()
	dir := t.TempDir()
	spec = strings.NewReplacer("{{BIN}}", testbin.Dir(t), "{{ROOT}}", testbin.Root()).Replace(spec)
	specPath := filepath.Join(dir, "spec.yml")
	if err := os.WriteFile(specPath, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append([]string{"sync", "--log-format", "json", "--report", filepath.Join(dir, "report.json")}, extraArgs...)
	cmd := exec.CommandContext(ctx, testbin.Path(t, "brazesync"), append(args, specPath)...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Start()
	if err == nil {
		done := make(chan struct{})
		if rss != nil {
			go rss.watch(cmd.Process.Pid, done)
		}
		err = cmd.Wait()
		close(done)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running brazesync: %v", err)
	}
	res := result{code: code, stdout: stdout.String(), stderr: stderr.String(), dir: dir}
	if b, err := os.ReadFile(filepath.Join(dir, "report.json")); err == nil {
		res.report = &runner.RunReport{}
		if err := json.Unmarshal(b, res.report); err != nil {
			t.Fatalf("report is not JSON: %v\n%s", err, b)
		}
	}
	return res
}

// assertNoSecret fails if secret appears in any output or file the run left behind.
func assertNoSecret(t *testing.T, res result, secret string) {
	t.Helper()
	if strings.Contains(res.stdout, secret) || strings.Contains(res.stderr, secret) {
		t.Errorf("the API key appears in the output")
	}
	entries, _ := os.ReadDir(res.dir)
	for _, e := range entries {
		if e.Name() == "spec.yml" || e.IsDir() {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(res.dir, e.Name()))
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the API key appears in %s", e.Name())
		}
	}
}

// destinationSpec is a file source into one Braze destination; %s slots: file, destination spec extras.
const fileToBraze = `
kind: source
spec:
  name: files
  path: {{BIN}}/file-source
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec:
    files:
      - path: %s
---
kind: destination
spec:
  name: braze
  path: {{BIN}}/braze-destination
  registry: local
  write_mode: append
  spec:
    api_key: "${BRAZE_API_KEY}"
    endpoint: "${BRAZE_ENDPOINT}"
    update_existing_only: false
    export_value: E2E
    dead_letter_file: dead.jsonl
%s`

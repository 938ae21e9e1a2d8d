// Package airflow tests the example DAG: its command lines are read from the DAG file with Python's
// ast module (extract.py; Airflow itself is not installed) and run, as written, against the Braze
// emulator through the real binaries.
package airflow

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

type dagCommands struct {
	Home      string   `json:"home"`
	Check     string   `json:"check"`
	Sync      string   `json:"sync"`
	PodCmd    string   `json:"pod_cmd"`
	PodArgs   []string `json:"pod_args"`
	PodReport string   `json:"pod_report"`
}

func extract(t *testing.T) dagCommands {
	t.Helper()
	out, err := exec.Command("python3", "extract.py", "brazesync_dag.py").Output()
	if err != nil {
		t.Fatalf("python3 extract.py: %v (python3 is required for this test)", err)
	}
	var c dagCommands
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("extract.py printed %s: %v", out, err)
	}
	return c
}

// home lays out BRAZESYNC_HOME as the DAG expects it: bin/, the spec (the quickstart's) and its data.
func home(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must(t, os.Symlink(testbin.Dir(t), filepath.Join(dir, "bin")))
	must(t, os.Symlink(filepath.Join(testbin.Root(), "docs"), filepath.Join(dir, "docs")))
	spec, err := os.ReadFile(filepath.Join(testbin.Root(), "docs/examples/quickstart.yml"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "spec.yml"), spec, 0o600))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// bash runs a DAG's bash_command in BRAZESYNC_HOME, as BashOperator does with cwd.
func bash(t *testing.T, dir, line string, env ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stdout.String(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

func TestDAGCommandLinesRun(t *testing.T) {
	c := extract(t)
	dir := home(t)
	local := func(s string) string { return strings.ReplaceAll(s, c.Home, dir) }
	const key = "airflow-dag-key-9f2c"
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}})
	env := []string{"BRAZE_API_KEY=" + key, "BRAZE_ENDPOINT=" + emu.URL()}

	if code, out, errOut := bash(t, dir, local(c.Check), env...); code != 0 {
		t.Fatalf("check task: exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut := bash(t, dir, local(c.Sync), env...)
	if code != 0 {
		t.Fatalf("sync task: exit %d\n%s", code, errOut)
	}
	// BashOperator pushes the last line of stdout to XCom: it must be the whole report.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rep runner.RunReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last stdout line is not the report: %v\n%s", err, out)
	}
	if rep.Status != "success" || rep.RowsRead == 0 || !rep.Balanced() || rep.UsersSent != int64(len(emu.Profiles())) {
		t.Errorf("report %+v, emulator holds %d profiles", rep.Report, len(emu.Profiles()))
	}
	if strings.Contains(out+errOut, key) {
		t.Error("the API key appears in the task's output")
	}

	// The KubernetesPodOperator's command, with its XCom file in a temp folder.
	podReport := filepath.Join(t.TempDir(), "return.json")
	args := make([]string, len(c.PodArgs))
	for i, a := range c.PodArgs {
		args[i] = strings.ReplaceAll(local(a), c.PodReport, podReport)
	}
	pod := exec.Command(local(c.PodCmd), args...)
	pod.Dir, pod.Env = dir, append(os.Environ(), env...)
	if b, err := pod.CombinedOutput(); err != nil {
		t.Fatalf("pod command: %v\n%s", err, b)
	}
	b, err := os.ReadFile(podReport)
	must(t, err)
	var podRep runner.RunReport
	if err := json.Unmarshal(b, &podRep); err != nil || podRep.Status != "success" {
		t.Errorf("pod XCom file: %v %s", err, b)
	}
}

// TestDAGExitCodes: the codes the DAG's retry policy relies on: a refused key is 3 for sync and a
// failed check (1) stops the DAG before sync; the report still reaches XCom on failure.
func TestDAGExitCodes(t *testing.T) {
	c := extract(t)
	dir := home(t)
	local := func(s string) string { return strings.ReplaceAll(s, c.Home, dir) }
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{"the-right-key"}})
	env := []string{"BRAZE_API_KEY=a-wrong-key", "BRAZE_ENDPOINT=" + emu.URL()}
	if code, out, _ := bash(t, dir, local(c.Check), env...); code != 1 || !strings.Contains(out, "FAIL  braze: api key") {
		t.Errorf("check with a wrong key: exit %d\n%s", code, out)
	}
	code, out, _ := bash(t, dir, local(c.Sync), env...)
	if code != runner.ExitAuth {
		t.Errorf("sync with a wrong key: exit %d, want %d", code, runner.ExitAuth)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rep runner.RunReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil || rep.Status != "failed" {
		t.Errorf("failed run's report in XCom: %v %q", err, lines[len(lines)-1])
	}
	if code, _, _ := bash(t, dir, local(strings.Replace(c.Check, "spec.yml", "missing.yml", 1)), env...); code != 2 {
		t.Errorf("check of a missing spec: exit %d, want 2", code)
	}
}

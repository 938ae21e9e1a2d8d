package airflow

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// podSpecYAML reads the DAG's POD_SPEC_YAML, the pod's spec, without importing Airflow.
func podSpecYAML(t *testing.T) string {
	t.Helper()
	const script = `import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
ns = {}
for n in tree.body:
    if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "POD_SPEC_YAML" for t in n.targets):
        exec(compile(ast.Module(body=[n], type_ignores=[]), sys.argv[1], "exec"), ns)
print(ns["POD_SPEC_YAML"], end="")`
	out, err := exec.Command("python3", "-c", script, "brazesync_dag.py").Output()
	if err != nil {
		t.Fatalf("reading POD_SPEC_YAML: %v (python3 is required for this test)", err)
	}
	return string(out)
}

var accountLine = regexp.MustCompile(`(?m)^( +)account: "\$\{SNOWFLAKE_ACCOUNT\}"$`)

// TestPodWithWarehouseState runs the KubernetesPodOperator's command with the DAG's pod spec, as two
// pods would: each in a new folder, so with an empty state_dir. The spec is used as written, but for
// the paths (BRAZESYNC_HOME, the mounted key) and the Snowflake endpoint, pointed at the emulator.
// The second pod sends nothing: the state is in Snowflake, and pushdown keeps the unchanged rows there.
func TestPodWithWarehouseState(t *testing.T) {
	c := extract(t)
	yaml := podSpecYAML(t)
	key := testbin.NewKeyPair(t)
	sf := emutest.Snowflake(t, snowflakeemu.Options{PublicKey: key.Public, Now: snowflakeemu.SeedClock,
		Warehouses: []string{"BRAZESYNC_WH"}, Roles: []string{"BRAZESYNC_ROLE"}})
	const users = 300
	if err := sf.SeedCurrents(context.Background(), users); err != nil {
		t.Fatal(err)
	}
	const apiKey = "airflow-pod-key-77d1"
	braze := emutest.Braze(t, brazeemu.Options{APIKeys: []string{apiKey}})
	host, port := sf.HostPort()
	env := append(os.Environ(), "BRAZE_API_KEY="+apiKey, "BRAZE_ENDPOINT="+braze.URL(), "SNOWFLAKE_ACCOUNT=EMU")

	pod := func() runner.RunReport {
		t.Helper()
		dir := t.TempDir()
		must(t, os.Symlink(testbin.Dir(t), filepath.Join(dir, "bin")))
		spec := strings.NewReplacer(c.Home, dir, "/var/run/secrets/brazesync/rsa_key.p8", key.PrivatePath).Replace(yaml)
		spec = accountLine.ReplaceAllString(spec, fmt.Sprintf("$0\n${1}host: %q\n${1}port: %d\n${1}protocol: http", host, port))
		must(t, os.WriteFile(filepath.Join(dir, "spec.yml"), []byte(spec), 0o600))
		report := filepath.Join(t.TempDir(), "return.json")
		args := make([]string, len(c.PodArgs))
		for i, a := range c.PodArgs {
			args[i] = strings.ReplaceAll(strings.ReplaceAll(a, c.PodReport, report), c.Home, dir)
		}
		cmd := exec.Command(strings.ReplaceAll(c.PodCmd, c.Home, dir), args...)
		cmd.Dir, cmd.Env = dir, env
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pod command: %v\n%s", err, b)
		}
		b, err := os.ReadFile(report)
		must(t, err)
		var rep runner.RunReport
		must(t, json.Unmarshal(b, &rep))
		if rep.Status != "success" || !rep.Balanced() {
			t.Fatalf("pod report: %+v", rep.Report)
		}
		return rep
	}
	first := pod()
	if first.UsersSent != users || int64(len(braze.Profiles())) != users {
		t.Fatalf("the first pod sent %d users (Braze holds %d), want %d", first.UsersSent, len(braze.Profiles()), users)
	}
	received := braze.Stats().ObjectsReceived
	second := pod()
	if got := braze.Stats().ObjectsReceived - received; got != 0 || second.UsersSent != 0 {
		t.Errorf("the second pod sent %d objects, want 0", got)
	}
	if d := second.Destinations["braze"]; d == nil || d.StateImported != users || d.RowsRead != 0 {
		t.Errorf("the second pod: %+v; want %d records imported and no row read (pushdown held them back)", d, users)
	}
}

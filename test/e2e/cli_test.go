package e2e

import (
	"bufio"
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

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// cliRun is one finished brazesync process.
type cliRun struct {
	code           int
	stdout, stderr string
}

// brazesyncCLI runs the built brazesync binary in dir with args. A process still running after a
// minute is killed and fails the test: no command here should block (help must not start a server).
func brazesyncCLI(t *testing.T, dir string, env []string, args ...string) cliRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testbin.Path(t, "brazesync"), args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("brazesync %s did not exit", strings.Join(args, " "))
	}
	res := cliRun{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running brazesync: %v", err)
	}
	return res
}

// TestCLIFlagsAfterSpecFiles runs sync and check with their flags after the spec file, as
// `cloudquery sync` allows: the flags take effect and the file is read as the spec.
func TestCLIFlagsAfterSpecFiles(t *testing.T) {
	const key = "e2e-cli-key-51c9"
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}})
	dir := t.TempDir()
	csv := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(csv, []byte("external_id,first_name\nu1,Ann\nu2,Bob\nu3,Cem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := strings.ReplaceAll(fileToBraze(csv), "{{BIN}}", testbin.Dir(t))
	if err := os.WriteFile(filepath.Join(dir, "spec.yml"), []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"BRAZE_API_KEY=" + key, "BRAZE_ENDPOINT=" + emu.URL()}

	res := brazesyncCLI(t, dir, env, "sync", "spec.yml", "--report", "after.json", "--progress", "none", "--log-format", "json")
	if res.code != 0 {
		t.Fatalf("sync spec.yml --report after.json: exit %d\n%s", res.code, res.stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "after.json"))
	if err != nil {
		t.Fatalf("--report after the spec file was not honoured: %v", err)
	}
	var rep runner.RunReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	if rep.RowsRead != 3 || rep.UsersSent != 3 || len(emu.Profiles()) != 3 {
		t.Errorf("report read %d sent %d, emulator holds %d profiles; want 3 each", rep.RowsRead, rep.UsersSent, len(emu.Profiles()))
	}
	if _, err := os.Stat(filepath.Join(dir, "brazesync-report.json")); err == nil {
		t.Errorf("the default report file was written too")
	}
	if !strings.Contains(res.stderr, `"level":`) {
		t.Errorf("--log-format json after the spec file was not honoured:\n%s", res.stderr)
	}

	res = brazesyncCLI(t, dir, env, "check", "spec.yml", "--format", "json")
	if res.code != 0 {
		t.Fatalf("check spec.yml --format json: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if !json.Valid([]byte(res.stdout)) {
		t.Errorf("--format json after the spec file was not honoured:\n%s", res.stdout)
	}
	testbin.AssertNoSecret(t, testbin.Result{Stdout: res.stdout, Stderr: res.stderr, Dir: dir}, key)
}

// TestCLIHelpExitsZero asks every command and subcommand for help, both spellings: help is a
// successful command that prints usage on stdout and starts nothing. Commands are discovered from
// the help output itself, so a new command is covered without editing this test.
func TestCLIHelpExitsZero(t *testing.T) {
	dir := t.TempDir()
	paths := commandPaths(t, dir, nil)
	// The Action Hub's own subcommands are parsed by its package, not listed by cobra.
	paths = append(paths, []string{"action-hub", "serve"}, []string{"action-hub", "token"})
	for _, want := range []string{"sync", "check", "completion", "emulator braze", "emulator snowflake", "emulator looker", "action-hub", "version"} {
		if !containsPath(paths, want) {
			t.Errorf("brazesync --help does not list %q", want)
		}
	}
	for _, p := range paths {
		for _, flag := range []string{"--help", "-h"} {
			args := append(append([]string{}, p...), flag)
			res := brazesyncCLI(t, dir, nil, args...)
			if res.code != 0 || !strings.Contains(res.stdout, "Usage") {
				t.Errorf("brazesync %s: exit %d, want 0 with usage on stdout\nstdout: %s\nstderr: %s",
					strings.Join(args, " "), res.code, res.stdout, res.stderr)
			}
		}
	}
	// Flags of commands whose packages parse them show up in their help.
	for cmd, flag := range map[string]string{"emulator braze": "-api-key", "emulator snowflake": "-seed-users",
		"emulator looker": "-rows", "action-hub": "-secret-env", "sync": "--report", "check": "--test-user"} {
		if res := brazesyncCLI(t, dir, nil, append(strings.Fields(cmd), "--help")...); !strings.Contains(res.stdout, flag) {
			t.Errorf("brazesync %s --help does not show %s:\n%s", cmd, flag, res.stdout)
		}
	}
}

// commandPaths lists the command under path and, recursively, the commands its help lists.
func commandPaths(t *testing.T, dir string, path []string) [][]string {
	t.Helper()
	res := brazesyncCLI(t, dir, nil, append(append([]string{}, path...), "--help")...)
	out := [][]string{path}
	listing := false
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "Available Commands:":
			listing = true
		case listing && strings.TrimSpace(line) == "":
			listing = false
		case listing:
			name := strings.Fields(line)[0]
			if name != "help" {
				out = append(out, commandPaths(t, dir, append(append([]string{}, path...), name))...)
			}
		}
	}
	return out
}

func containsPath(paths [][]string, want string) bool {
	for _, p := range paths {
		if strings.Join(p, " ") == want {
			return true
		}
	}
	return false
}

// TestCLIUsageErrors: an unknown flag, command or emulator exits 2 and names what was wrong.
func TestCLIUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"sync", "spec.yml", "--no-such-flag"}, "--no-such-flag"},
		{[]string{"check", "--no-such-flag", "spec.yml"}, "--no-such-flag"},
		{[]string{"--no-such-flag"}, "--no-such-flag"},
		{[]string{"emulator", "braze", "--no-such-flag"}, "no-such-flag"},
		{[]string{"action-hub", "--no-such-flag"}, "no-such-flag"},
		{[]string{"action-hub", "token", "--no-such-flag"}, "no-such-flag"},
		{[]string{"no-such-command"}, `"no-such-command"`},
		{[]string{"emulator", "no-such-emulator"}, `"no-such-emulator"`},
		{[]string{"sync", "--progress", "fancy", "spec.yml"}, "--progress"},
		{[]string{"check", "--format", "xml", "spec.yml"}, "--format"},
		{[]string{"sync", "-report", "r.json", "spec.yml"}, "--report"}, // the old single-dash spelling
		{nil, "Usage"},
	}
	for _, c := range cases {
		res := brazesyncCLI(t, dir, nil, c.args...)
		if res.code != runner.ExitConfig || !strings.Contains(res.stderr, c.want) {
			t.Errorf("brazesync %s: exit %d, want %d with %q on stderr\n%s",
				strings.Join(c.args, " "), res.code, runner.ExitConfig, c.want, res.stderr)
		}
	}
}

// TestCLICompletion: every shell gets a completion script, and sync's flags complete their values.
func TestCLICompletion(t *testing.T) {
	dir := t.TempDir()
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		res := brazesyncCLI(t, dir, nil, "completion", shell)
		if res.code != 0 || !strings.Contains(res.stdout, "brazesync") {
			t.Errorf("completion %s: exit %d, %d bytes\n%s", shell, res.code, len(res.stdout), res.stderr)
		}
	}
	// What the shell scripts call on <TAB>: the values of --log-format, then the commands.
	res := brazesyncCLI(t, dir, nil, "__complete", "sync", "spec.yml", "--log-format", "")
	if got := completions(res.stdout); strings.Join(got, ",") != "text,json" {
		t.Errorf("sync --log-format completes to %q, want text,json", got)
	}
	res = brazesyncCLI(t, dir, nil, "__complete", "")
	for _, want := range []string{"sync", "check", "emulator", "action-hub"} {
		if !strings.Contains(strings.Join(completions(res.stdout), ","), want) {
			t.Errorf("the command completion lacks %s:\n%s", want, res.stdout)
		}
	}
}

// completions are the candidate lines of a __complete answer (before the ":directive" line), each
// without its tab-separated description.
func completions(out string) []string {
	var c []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, ":") {
			break
		}
		name, _, _ := strings.Cut(l, "\t")
		c = append(c, name)
	}
	return c
}

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestSIGKILLLeavesNoOrphans: kill -9 of `brazesync sync` mid-run takes its plugins with it. Two
// seconds later no child process runs, and Braze got no request but those already on the wire.
func TestSIGKILLLeavesNoOrphans(t *testing.T) {
	const key = "e2e-orphan-key-9b2e"
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}, RateLimit: -1})
	data := filepath.Join(t.TempDir(), "users.parquet")
	writeNarrowParquet(t, data, 300_000) // 4,000 requests at 20 a second: far from done at the kill
	s := startSync(t, pacedSpec(data), map[string]string{"BRAZE_API_KEY": key, "BRAZE_ENDPOINT": emu.URL()})
	s.waitFor("requests and both plugins", func() bool { return emu.Stats().Requests >= 10 && len(s.children()) == 2 })
	kids := s.children()
	t.Cleanup(func() { // orphans, if the test fails
		for _, pid := range kids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	names := []string{procName(kids[0]), procName(kids[1])}
	sort.Strings(names)
	if names[0] != "braze-destinati" || names[1] != "file-source" { // the kernel keeps 15 characters
		t.Fatalf("children %v are not the two plugins", names)
	}

	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed, atKill := time.Now(), emu.Stats().Requests
	<-s.exited
	for gone := false; !gone && time.Since(killed) < 2*time.Second; time.Sleep(5 * time.Millisecond) {
		gone = !running(kids[0]) && !running(kids[1])
		if gone {
			t.Logf("both plugins gone %s after the kill", time.Since(killed).Round(time.Millisecond))
		}
	}
	time.Sleep(time.Until(killed.Add(2 * time.Second)))

	for _, pid := range kids {
		if running(pid) {
			t.Errorf("%s (pid %d) still runs 2 s after its host was killed", procName(pid), pid)
		}
	}
	if n := emu.Stats().Requests - atKill; n > concurrency {
		t.Errorf("%d requests reached Braze after the kill (at most %d were on the wire)", n, concurrency)
	}
}

// TestPluginsGetNoSecrets: each plugin process's environment (/proc/PID/environ) holds the basics
// (PATH) and the test hooks, but no secret of the runner's environment: the Braze key reaches the
// destination only inside its spec, over RPC — the run succeeds — and no other process at all.
func TestPluginsGetNoSecrets(t *testing.T) {
	const key = "e2e-environ-key-3f0a"
	secrets := map[string]string{
		"BRAZE_API_KEY":         key,
		"SNOWFLAKE_PASSWORD":    "e2e-snowflake-password-11aa",
		"LOOKER_CLIENT_SECRET":  "e2e-looker-secret-22bb",
		"AWS_SECRET_ACCESS_KEY": "e2e-aws-secret-33cc",
	}
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}, RateLimit: -1})
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 20 * time.Millisecond})
	data := filepath.Join(t.TempDir(), "users.parquet")
	writeNarrowParquet(t, data, 3_000) // 40 paced requests: two seconds to look at the plugins
	env := map[string]string{"BRAZE_ENDPOINT": emu.URL(), "BRAZESYNC_TEST_MARKER": "kept"}
	for k, v := range secrets {
		env[k] = v
	}
	s := startSync(t, pacedSpec(data), env)
	// A child seen between fork and exec still has the runner's name and environment: wait until
	// both have become the plugins.
	s.waitFor("both plugins", func() bool {
		kids := s.children()
		return len(kids) == 2 && !slices.Contains([]string{procName(kids[0]), procName(kids[1])}, "brazesync")
	})
	environs := map[string][]byte{}
	for _, pid := range s.children() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			t.Fatalf("reading the environment of %s: %v", procName(pid), err)
		}
		environs[procName(pid)] = b
	}
	code, rep := s.wait(time.Minute)
	if code != 0 || rep.UsersSent != 3_000 {
		t.Fatalf("exit %d, %d users sent: the key did not reach the destination?\n%s", code, rep.UsersSent, testbin.Tail(s.stderr.String(), 3000))
	}
	for name, b := range environs {
		vars := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
		for secretName, secret := range secrets {
			if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(secretName+"=")) {
				t.Errorf("%s holds %s", name, secretName)
			}
		}
		if !hasVar(vars, "PATH") || !hasVar(vars, "BRAZESYNC_TEST_MARKER") {
			t.Errorf("%s lacks PATH or the test hook variable: %q", name, vars)
		}
	}
}

func hasVar(vars []string, name string) bool {
	for _, v := range vars {
		if strings.HasPrefix(v, name+"=") {
			return true
		}
	}
	return false
}

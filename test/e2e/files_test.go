package e2e

import (
	"bufio"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestFilesArePrivateAndNotFollowed: the run report, the dead letters and a dry run's payloads are
// created 0600 whatever was at their paths before — an old world-writable file, or a symlink to a
// file the run must not touch, which stays untouched.
func TestFilesArePrivateAndNotFollowed(t *testing.T) {
	const key = "e2e-files-key-6d6d"
	for _, tc := range []struct {
		name   string
		dryRun bool
		before func(t *testing.T, path, victim string)
	}{
		{name: "old 0666 files", before: func(t *testing.T, path, _ string) {
			if err := os.WriteFile(path, []byte("old\n"), 0o666); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o666); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "symlinks", before: func(t *testing.T, path, victim string) {
			if err := os.Symlink(victim, path); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "dry run over symlinks", dryRun: true, before: func(t *testing.T, path, victim string) {
			if err := os.Symlink(victim, path); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}})
			// Every 5th request has its first object refused: dead letters for sure.
			emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultMinorErrors, Every: 5, Message: "e2e-refused"})
			dir := t.TempDir()
			victim := filepath.Join(dir, "victim")
			if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			report, dead, dry := filepath.Join(dir, "report.json"), filepath.Join(dir, "dead.jsonl"), filepath.Join(dir, "dry.jsonl")
			paths := []string{report, dead}
			extra := []string{"max_rejected_ratio: 1"}
			if tc.dryRun {
				paths = []string{report, dry}
				extra = append(extra, "dry_run: true", "dry_run_file: "+dry)
			}
			for _, p := range paths {
				tc.before(t, p, victim)
			}
			spec := strings.Replace(fileToBraze("{{ROOT}}/docs/examples/data/users.csv", extra...),
				"dead_letter_file: dead.jsonl", "dead_letter_file: "+dead, 1)
			res := testbin.Sync(t, spec,
				testbin.SyncOptions{Env: map[string]string{"BRAZE_API_KEY": key, "BRAZE_ENDPOINT": emu.URL()},
					Args: []string{"--report", report}})
			if res.Code != runner.ExitOK {
				t.Fatalf("exit %d\n%s", res.Code, testbin.Tail(res.Stderr, 3000))
			}
			for _, p := range paths {
				fi, err := os.Lstat(p)
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(p), err)
				}
				if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s is %v, want a regular 0600 file", filepath.Base(p), fi.Mode())
				}
				if n := countLines(t, p); n < 2 {
					t.Errorf("%s holds %d lines: not this run's?", filepath.Base(p), n)
				}
			}
			if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
				t.Errorf("the symlinks' target was written: %q", b)
			}
		})
	}
}

func countLines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	return n
}

// TestUntrustedCertificateFailsAtOnce: an endpoint whose certificate this machine does not trust
// (the emulator served with a self-signed certificate) fails the run at the first attempt — one
// connection, no retry — with exit 3 and an error that names the certificate problem.
func TestUntrustedCertificateFailsAtOnce(t *testing.T) {
	const key = "e2e-tls-key-2c2c"
	emu := brazeemu.New(brazeemu.Options{APIKeys: []string{key}})
	srv := httptest.NewUnstartedServer(emu)
	var conns atomic.Int64
	srv.Listener = countingListener{Listener: srv.Listener, n: &conns}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	res := testbin.Sync(t, fileToBraze("{{ROOT}}/docs/examples/data/users.csv"),
		testbin.SyncOptions{Env: map[string]string{"BRAZE_API_KEY": key, "BRAZE_ENDPOINT": srv.URL}})

	if res.Code != runner.ExitAuth {
		t.Errorf("exit %d, want %d\n%s", res.Code, runner.ExitAuth, testbin.Tail(res.Stderr, 3000))
	}
	if !strings.Contains(res.Stderr, "certificate signed by an unknown authority") {
		t.Errorf("the error does not name the certificate problem:\n%s", testbin.Tail(res.Stderr, 3000))
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections to the endpoint, want 1 (a certificate problem is not retried)", n)
	}
	if got := emu.Stats().Requests; got != 0 {
		t.Errorf("%d requests got through the failed handshake", got)
	}
	if res.Report == nil || res.Report.Status != "failed" {
		t.Errorf("report: %+v", res.Report)
	}
	testbin.AssertNoSecret(t, res, key)
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

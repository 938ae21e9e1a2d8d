package inpute2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

const (
	brazeKey     = "inpute2e-exit-key-71c2"
	sfPassword   = "inpute2e-sf-password-9a"
	lookerSecret = "inpute2e-looker-secret-4b"
)

// snowflakeSource is a password-login Snowflake source document.
func snowflakeSource(host string, port int, password, sql string) string {
	return fmt.Sprintf(`kind: source
spec:
  name: warehouse
  path: {{BIN}}/snowflake-source
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec:
    account: EMU
    user: BRAZESYNC
    password: %q
    warehouse: COMPUTE_WH
    role: SYNC_ROLE
    host: %q
    port: %d
    protocol: http
    login_timeout_seconds: 3
    queries:
      - name: users
        sql: %q
`, password, host, port, sql)
}

func lookerSource(url string) string {
	return fmt.Sprintf(`kind: source
spec:
  name: looker
  path: {{BIN}}/looker-source
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec:
    base_url: %q
    client_id: brazesync
    client_secret_env: LOOKER_SECRET
    max_retries: 2
    tables:
      - name: scenario
        look_id: %d
`, url, lookeremu.LookScenario)
}

// exitCase is one way a run can fail, and the exit code the scheduler must see.
type exitCase struct {
	name    string
	spec    func(t *testing.T, braze *brazeemu.Emulator) (spec string, env map[string]string)
	during  func(t *testing.T, braze *brazeemu.Emulator, pid int) // acts on the running sync
	code    int
	message string   // the log names the cause
	dest    []string // extra destination spec lines
}

// TestExitCodesByCause: each cause of failure, end to end through the real binaries, gives the
// documented exit code (docs/operations.md) and a message naming it; the report still balances.
func TestExitCodesByCause(t *testing.T) {
	cases := []exitCase{
		{name: "warehouse unreachable", code: runner.ExitFailed, message: "connection refused (retryable)",
			spec: func(t *testing.T, _ *brazeemu.Emulator) (string, map[string]string) {
				return snowflakeSource("127.0.0.1", closedPort(t), sfPassword, "SELECT 1 AS EXTERNAL_ID"), nil
			}},
		{name: "wrong warehouse password", code: runner.ExitConfig, message: "incorrect user name or password",
			spec: func(t *testing.T, _ *brazeemu.Emulator) (string, map[string]string) {
				host, port := startSnowflake(t).HostPort()
				return snowflakeSource(host, port, "not-the-password", "SELECT 1 AS EXTERNAL_ID"), nil
			}},
		{name: "SQL error", code: runner.ExitConfig, message: "SQL compilation error",
			spec: func(t *testing.T, _ *brazeemu.Emulator) (string, map[string]string) {
				host, port := startSnowflake(t).HostPort()
				return snowflakeSource(host, port, sfPassword, "SELECT EXTERNAL_ID FROM NO_SUCH_TABLE"), nil
			}},
		{name: "Looker login 5xx", code: runner.ExitFailed, message: "503",
			spec: func(t *testing.T, _ *brazeemu.Emulator) (string, map[string]string) {
				lk := startLooker(t)
				lk.FailNextLogins(10, 503)
				return lookerSource(lk.URL()), map[string]string{"LOOKER_SECRET": lookerSecret}
			}},
		{name: "wrong Looker secret", code: runner.ExitConfig, message: "wrong client_id or client_secret",
			spec: func(t *testing.T, _ *brazeemu.Emulator) (string, map[string]string) {
				return lookerSource(startLooker(t).URL()), map[string]string{"LOOKER_SECRET": "not-the-secret"}
			}},
		{name: "source killed", code: runner.ExitPlugin, message: "exited unexpectedly",
			spec: bigFileSpec(testbin.Dir(t)), during: killChild("file-source")},
		{name: "source panicking", code: runner.ExitPlugin, message: "panic while reading",
			spec: func(t *testing.T, b *brazeemu.Emulator) (string, map[string]string) {
				spec, env := bigFileSpec(hookedFileSourceDir(t))(t, b)
				env["BRAZESYNC_TEST_SOURCE_PANIC_AFTER_ROWS"] = "20000"
				return spec, env
			}},
		{name: "destination killed", code: runner.ExitPlugin, message: "exited unexpectedly",
			spec: bigFileSpec(testbin.Dir(t)), during: killChild("braze-destination")},
		{name: "Braze goes away", code: runner.ExitAuth, message: "unreachable", dest: []string{"max_attempts: 2"},
			spec: bigFileSpec(testbin.Dir(t)), during: func(t *testing.T, b *brazeemu.Emulator, _ int) {
				waitRequests(t, b, 5)
				_ = b.Close()
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			braze := emutest.Braze(t, brazeemu.Options{APIKeys: []string{brazeKey}, RateLimit: -1})
			braze.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 15 * time.Millisecond})
			src, env := tc.spec(t, braze)
			if env == nil {
				env = map[string]string{}
			}
			env["BRAZE_API_KEY"], env["BRAZE_ENDPOINT"] = brazeKey, braze.URL()
			opts := testbin.SyncOptions{Env: env}
			if tc.during != nil {
				opts.Watch = func(pid int) func() {
					done := make(chan struct{})
					go func() { defer close(done); tc.during(t, braze, pid) }()
					return func() { <-done }
				}
			}
			res := testbin.Sync(t, testbin.Spec(src, testbin.BrazeDestination("EXIT", append([]string{"concurrency: 2"}, tc.dest...)...)), opts)
			if res.Code != tc.code {
				t.Errorf("exit %d, want %d\n%s", res.Code, tc.code, testbin.Tail(res.Stderr, 4000))
			}
			if !strings.Contains(res.Stderr, tc.message) {
				t.Errorf("the log does not say %q:\n%s", tc.message, testbin.Tail(res.Stderr, 4000))
			}
			checkEndedEarly(t, res)
			for _, secret := range []string{brazeKey, sfPassword, lookerSecret} {
				testbin.AssertNoSecret(t, res, secret)
			}
		})
	}
}

// checkEndedEarly: whatever ended the run, every row a source produced is in a counter: read by
// the destination (and then delivered, skipped, rejected or unaccounted) or not read.
func checkEndedEarly(t *testing.T, res testbin.Result) {
	t.Helper()
	rep := res.Report
	if rep == nil {
		t.Fatal("no report")
	}
	var produced int64
	for _, n := range rep.Sources {
		produced += n
	}
	if !rep.Balanced() || produced != rep.RowsRead+rep.RowsNotRead {
		t.Errorf("sources produced %d; read %d (accounted %d, unaccounted %d), not read %d",
			produced, rep.RowsRead, rep.Accounted(), rep.RowsUnaccounted, rep.RowsNotRead)
	}
}

func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

func startSnowflake(t *testing.T) *snowflakeemu.Emulator {
	t.Helper()
	return emutest.Snowflake(t, snowflakeemu.Options{Password: sfPassword, Now: snowflakeemu.SeedClock})
}

func startLooker(t *testing.T) *lookeremu.Server {
	t.Helper()
	o := lookeremu.Seed(100)
	o.ClientSecret = lookerSecret
	return emutest.Looker(t, o)
}

// bigFileSpec reads a 200,000-row Parquet file with the file-source in dir: long enough, against a
// slowed Braze, to be mid-run when something fails.
func bigFileSpec(dir string) func(t *testing.T, _ *brazeemu.Emulator) (string, map[string]string) {
	return func(t *testing.T, _ *brazeemu.Emulator) (string, map[string]string) {
		path := bigParquet(t)
		doc := strings.Replace(testbin.FileSource(path, "batch_rows: 4096"), "{{BIN}}/file-source", filepath.Join(dir, "file-source"), 1)
		return doc, map[string]string{}
	}
}

var (
	bigOnce sync.Once
	bigPath string
)

func bigParquet(t *testing.T) string {
	t.Helper()
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "inpute2e-")
		if err != nil {
			t.Fatal(err)
		}
		bigPath = filepath.Join(dir, "big.parquet")
		writeUsersParquet(t, bigPath, 200_000)
	})
	return bigPath
}

func writeUsersParquet(t *testing.T, path string, rows int) {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: keyCol, Type: arrow.BinaryTypes.String},
		{Name: "braze[score]", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	testbin.WriteParquet(t, path, sc, rows, func(b *array.RecordBuilder, i int) {
		b.Field(0).(*array.StringBuilder).Append("big-" + strconv.Itoa(i))
		b.Field(1).(*array.Int64Builder).Append(int64(i % 1000))
	})
}

// hookedFileSourceDir is the folder of a file-source built with the test hooks (a panic after N
// rows): release builds do not have them.
func hookedFileSourceDir(t *testing.T) string { return filepath.Dir(testbin.Hooked(t, "file-source")) }

// killChild kills the plugin process called name, a child of the sync, once rows flow.
func killChild(name string) func(t *testing.T, b *brazeemu.Emulator, pid int) {
	return func(t *testing.T, b *brazeemu.Emulator, pid int) {
		waitRequests(t, b, 5)
		child := findChild(pid, name)
		if child == 0 {
			t.Errorf("no %s child of %d", name, pid)
			return
		}
		_ = syscall.Kill(child, syscall.SIGKILL)
	}
}

func waitRequests(t *testing.T, b *brazeemu.Emulator, n int64) {
	deadline := time.Now().Add(time.Minute)
	for b.Stats().Requests < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// findChild finds a child process of parent by its executable's base name, from /proc.
func findChild(parent int, name string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
		fields := strings.Fields(rest)
		if len(fields) < 2 || fields[1] != strconv.Itoa(parent) {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && filepath.Base(exe) == name {
			return pid
		}
	}
	return 0
}

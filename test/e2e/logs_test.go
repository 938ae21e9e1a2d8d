package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// TestJSONLogsAreJSONOnly: with --log-format json every line on stderr is a JSON object — the
// runner's lines, each plugin's, the progress, the end of the run, and the Snowflake driver's own
// log (at debug level, where it speaks) — and no human summary is printed.
func TestJSONLogsAreJSONOnly(t *testing.T) {
	const apiKey = "e2e-jsonlogs-key-8e8e"
	braze := emutest.Braze(t, brazeemu.Options{APIKeys: []string{apiKey}})
	// Some refused objects, so that warnings and dead letters are part of the log.
	braze.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultMinorErrors, Every: 5, Message: "e2e-refused"})
	env := map[string]string{"BRAZE_API_KEY": apiKey, "BRAZE_ENDPOINT": braze.URL()}

	key := testbin.NewKeyPair(t)
	sf := emutest.Snowflake(t, snowflakeemu.Options{PublicKey: key.Public, Now: snowflakeemu.SeedClock})
	if err := sf.SeedAllTypes(context.Background()); err != nil {
		t.Fatal(err)
	}
	host, port := sf.HostPort()
	snowflakeSpec := testbin.Spec(testbin.SnowflakeSource(snowflake.Spec{Account: "EMU", User: "BRAZESYNC",
		PrivateKeyPath: key.PrivatePath, Warehouse: "COMPUTE_WH", Role: "SYNC_ROLE", Host: host, Port: port,
		Protocol: "http", Queries: []snowflake.Query{{Name: "all_types", SQL: `SELECT 'sf_' || ID AS EXTERNAL_ID, NAME AS "braze[name]" FROM ALL_TYPES`}}}),
		testbin.BrazeDestination("E2E", "max_rejected_ratio: 1"))

	for _, tc := range []struct {
		name, spec string
		args       []string
		want       string // a message some line must carry
	}{
		{"file source", fileToBraze("{{ROOT}}/docs/examples/data/users.csv", "max_rejected_ratio: 1"),
			[]string{"--progress", "plain", "--progress-interval", "50ms"}, "run finished"},
		{"snowflake source, driver log", snowflakeSpec, []string{"--log-level", "debug"}, `"logger":"gosnowflake"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := testbin.Sync(t, tc.spec, testbin.SyncOptions{Env: env, Args: tc.args})
			if res.Code != 0 {
				t.Fatalf("exit %d\n%s", res.Code, testbin.Tail(res.Stderr, 3000))
			}
			lines := strings.Split(strings.TrimRight(res.Stderr, "\n"), "\n")
			for i, line := range lines {
				var obj map[string]any
				if err := json.Unmarshal([]byte(line), &obj); err != nil {
					t.Errorf("stderr line %d is not JSON: %q", i+1, line)
				}
			}
			if !strings.Contains(res.Stderr, tc.want) {
				t.Errorf("no line with %s in:\n%s", tc.want, testbin.Tail(res.Stderr, 3000))
			}
			testbin.AssertNoSecret(t, res, apiKey)
			testbin.AssertNoSecret(t, res, "PRIVATE KEY")
		})
	}
}

package bench

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/brazesync/brazesync/test/testbin"
)

// snowflakeSpec reads one row per user from the emulator's Currents data; %s slots:
// key file, host, port.
const snowflakeSpec = `
kind: source
spec:
  name: snowflake
  path: {{BIN}}/snowflake-source
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec:
    account: EMU
    user: BRAZESYNC
    private_key_path: %q
    warehouse: COMPUTE_WH
    role: SYNC_ROLE
    host: %q
    port: %s
    protocol: http
    queries:
      - name: first_sessions
        sql: >-
          SELECT EXTERNAL_USER_ID AS EXTERNAL_ID, PLATFORM AS "braze[platform]",
          TIME AS "braze[first_session_at]", SESSION_ID AS "braze[first_session]",
          APP_ID AS "braze[app]" FROM USERS_BEHAVIORS_APP_FIRSTSESSION
`

// lookerSpec runs the seeded typed Look (json_detail); %s slots: base URL; %d: Look id.
const lookerSpec = `
kind: source
spec:
  name: looker
  path: {{BIN}}/looker-source
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec:
    base_url: %q
    client_id: brazesync
    client_secret_env: BENCH_LOOKER_SECRET
    tables:
      - name: typed_users
        look_id: %d
        limit: -1
`

// lookTyped is lookeremu.LookTyped (numbers, yesno, dates and times), kept literal so
// the suite does not need the Looker emulator's package to build.
const lookTyped = 2

// BenchmarkSources: the Snowflake emulator → snowflake-source and the Looker emulator
// (json_detail) → looker-source, each through brazesync into the Braze emulator with
// rate limiting off. Rows: $BENCH_SOURCE_ROWS (default 250,000); both emulators run as
// their own processes (`brazesync emulator snowflake|looker`).
func BenchmarkSources(b *testing.B) {
	rows := runsFromEnv("BENCH_SOURCE_ROWS", 250_000)
	braze := startEmulator(b, "--rate-limit", "-1")
	b.Run("snowflake", func(b *testing.B) {
		keyPath, pubPath := keyPair(b)
		sf := startProc(b, nil, "emulator", "snowflake", "--listen", "127.0.0.1:0", "--public-key", pubPath,
			"--seed-users", fmt.Sprint(rows), "--seed-all-types=false")
		u, err := url.Parse(sf.url)
		if err != nil {
			b.Fatal(err)
		}
		spec := testbin.Spec(fmt.Sprintf(snowflakeSpec, keyPath, u.Hostname(), u.Port()), testbin.BrazeDestination("BENCH", "rate_limit: -1"))
		sourceFigures(b, "snowflake-sourc", "snowflake", braze, sf, spec, rows)
	})
	b.Run("looker", func(b *testing.B) {
		const secret = "bench-looker-secret-41"
		lk := startProc(b, []string{"LOOKEREMU_CLIENT_SECRET=" + secret}, "emulator", "looker", "--listen", "127.0.0.1:0",
			"--rows", fmt.Sprint(rows))
		spec := testbin.Spec(fmt.Sprintf(lookerSpec, lk.url, lookTyped), testbin.BrazeDestination("BENCH", "rate_limit: -1"))
		sourceFigures(b, "looker-source", "looker", braze, lk, spec, rows, "BENCH_LOOKER_SECRET="+secret)
	})
}

// sourceFigures runs spec and records rows/s, brazesync's CPU, the source plugin's CPU
// and memory, and the source emulator's CPU (srcEmu; not brazesync's cost).
func sourceFigures(b *testing.B, proc, label string, braze, srcEmu *emulatorProc, spec string, rows int, env ...string) {
	var runs []syncRun
	var emuCPU []float64
	for range b.N {
		for range runsFromEnv("BENCH_SOURCE_RUNS", 2) {
			before := srcEmu.cpu()
			runs = append(runs, runSync(b, braze, spec, int64(rows), env...))
			emuCPU = append(emuCPU, (srcEmu.cpu()-before).Seconds()/float64(rows)*1e6)
		}
	}
	rate := collect(runs, syncRun.rowsPerSec)
	n := len(runs)
	name := fmt.Sprintf("%s rows/s, %dk rows", label, rows/1000)
	record(figure{Bench: "sources", Name: name, Value: rate, Unit: "rows/s", Braze: rate / brazeRowsPerSec, Runs: n})
	record(figure{Bench: "sources", Name: "  " + label + ": brazesync CPU per 1M rows", Value: collect(runs, syncRun.cpuPerMillion),
		Unit: "core-s", Runs: n})
	record(figure{Bench: "sources", Name: "  " + label + ": source CPU per 1M rows",
		Value: collect(runs, func(r syncRun) float64 { return r.procs[proc].CPU.Seconds() / float64(r.rows) * 1e6 }), Unit: "core-s", Runs: n})
	record(figure{Bench: "sources", Name: "  " + label + ": source peak RSS",
		Value: collect(runs, func(r syncRun) float64 { return mib(r.procs[proc].Peak) }), Unit: "MiB", Target: "<= 150", Runs: n})
	record(figure{Bench: "sources", Name: "  " + label + ": emulator CPU per 1M", Value: median(emuCPU), Unit: "core-s", Runs: n,
		Note: "the " + label + " emulator's own cost, not brazesync's"})
}

// keyPair writes an RSA private key (PKCS#8, for the source) and its public key (for the
// emulator) into a temporary folder.
func keyPair(b *testing.B) (keyPath, pubPath string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	keyPath, pubPath = filepath.Join(dir, "rsa_key.p8"), filepath.Join(dir, "rsa_key.pub")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		b.Fatal(err)
	}
	return keyPath, pubPath
}

// Package warehousee2e runs `brazesync sync` (the real binaries: snowflake-source over the
// CloudQuery protocol, braze-destination over go-plugin) with the sync state kept in Snowflake
// (state: {backend: snowflake}), against the Snowflake and Braze emulators. Every run works in a
// folder of its own, with an empty state_dir, as a worker that keeps no disk between runs does.
package warehousee2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/emulator/snowflakeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

const apiKey = "e2e-warehouse-key-5d1e"

// lockTimeout is the destinations' state.lock_timeout; tests move the emulator's clock past it.
const lockTimeout = 2 * time.Minute

// usersQuery maps a key, a string, a number and a boolean: the types pushdown compares in SQL.
const usersQuery = `SELECT ID AS EXTERNAL_ID, TIER AS "braze[tier]", VISITS AS "braze[visits]", VIP AS "braze[vip]" FROM WH_USERS`

// world is one Snowflake account, holding the users and brazesync's state, and one Braze workspace.
type world struct {
	t     *testing.T
	sf    *snowflakeemu.Emulator
	braze *brazeemu.Emulator
	key   testbin.KeyPair
	users int
}

func newWorld(t *testing.T, users int) *world {
	t.Helper()
	key := testbin.NewKeyPair(t)
	w := &world{t: t, key: key, users: users,
		sf:    emutest.Snowflake(t, snowflakeemu.Options{PublicKey: key.Public, Now: snowflakeemu.SeedClock}),
		braze: emutest.Braze(t, brazeemu.Options{APIKeys: []string{apiKey}, RateLimit: -1})}
	ctx := context.Background()
	if err := w.sf.Catalog().CreateTable(ctx, "WH_USERS", []snowflakeemu.ColumnDef{
		{Name: "ID", Type: "VARCHAR"}, {Name: "TIER", Type: "VARCHAR"}, {Name: "VISITS", Type: "NUMBER(38,0)"}, {Name: "VIP", Type: "BOOLEAN"}}); err != nil {
		t.Fatal(err)
	}
	rows := make([][]any, users)
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("wh_%05d", i), []string{"gold", "silver", `bronze "b"`}[i%3], int64(i), i%2 == 0}
	}
	if err := w.sf.Catalog().Insert(ctx, "WH_USERS", rows); err != nil {
		t.Fatal(err)
	}
	return w
}

// change gives n users a new tier in the source table.
func (w *world) change(n int, tier string) {
	w.t.Helper()
	if _, err := w.sf.DB().Exec(`UPDATE WH_USERS SET TIER = ? WHERE ID < ?`, tier, fmt.Sprintf("wh_%05d", n)); err != nil {
		w.t.Fatal(err)
	}
}

// spec is the sync spec: the users query (with pushdown or not), and the braze destination with
// its state in the emulator's BRAZE database; extra lines go into the destination's spec.
func (w *world) spec(pushdown bool, extra ...string) string {
	conn := w.source(snowflake.Query{Name: "users", SQL: usersQuery, Pushdown: pushdown})
	if pushdown {
		conn.PushdownState = &snowflake.PushdownState{Database: "BRAZE"}
	}
	return testbin.Spec(testbin.SnowflakeSource(conn), testbin.BrazeDestination("VIP", append(w.stateLines(), extra...)...))
}

// source is the Snowflake source's spec for the world's account, running queries.
func (w *world) source(queries ...snowflake.Query) snowflake.Spec {
	host, port := w.sf.HostPort()
	return snowflake.Spec{Account: "EMU", User: "BRAZESYNC", PrivateKeyPath: w.key.PrivatePath, Warehouse: "COMPUTE_WH",
		Role: "SYNC_ROLE", Host: host, Port: port, Protocol: "http", Queries: queries}
}

// stateLines are the destination spec's state block: the warehouse backend in the emulator's BRAZE
// database.
func (w *world) stateLines() []string {
	host, port := w.sf.HostPort()
	return []string{"state:", "  backend: snowflake", "  account: EMU", "  user: BRAZESYNC",
		"  private_key_path: " + w.key.PrivatePath, "  warehouse: COMPUTE_WH", "  role: SYNC_ROLE",
		fmt.Sprintf("  host: %q", host), fmt.Sprintf("  port: %d", port), "  protocol: http",
		"  database: BRAZE", "  lock_timeout: " + lockTimeout.String()}
}

func (w *world) env() map[string]string {
	return map[string]string{"BRAZE_API_KEY": apiKey, "BRAZE_ENDPOINT": w.braze.URL()}
}

// sync runs `brazesync sync` to the end in a new folder.
func (w *world) sync(spec string) testbin.Result {
	w.t.Helper()
	return testbin.Sync(w.t, spec, testbin.SyncOptions{Env: w.env()})
}

// mustSync runs a sync that must succeed, with a balanced report that leaked no secret.
func (w *world) mustSync(spec string) testbin.Result {
	w.t.Helper()
	res := w.sync(spec)
	if res.Code != 0 || res.Report == nil {
		w.t.Fatalf("brazesync sync: exit %d\n%s", res.Code, testbin.Tail(res.Stderr, 4000))
	}
	if !res.Report.Balanced() {
		w.t.Errorf("report does not add up: %+v", res.Report.Report)
	}
	testbin.AssertNoSecret(w.t, res, apiKey)
	testbin.AssertNoSecret(w.t, res, "PRIVATE KEY")
	return res
}

// objects is the count of user objects Braze has received so far.
func (w *world) objects() int64 { return w.braze.Stats().ObjectsReceived }

// assertBrazeEqualsSource checks every user's profile against the source table.
func (w *world) assertBrazeEqualsSource() {
	w.t.Helper()
	rows, err := w.sf.DB().Query(`SELECT ID, TIER, VISITS FROM WH_USERS`)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, tier string
		var visits int64
		if err := rows.Scan(&id, &tier, &visits); err != nil {
			w.t.Fatal(err)
		}
		n++
		p, ok := w.braze.Profile(id)
		switch {
		case !ok:
			w.t.Errorf("no profile %s", id)
		case fmt.Sprint(p.Custom["tier"]) != tier || fmt.Sprint(p.Custom["visits"]) != fmt.Sprint(visits):
			w.t.Errorf("%s: Braze holds tier %v visits %v, the source %q %d", id, p.Custom["tier"], p.Custom["visits"], tier, visits)
		}
	}
	if got := len(w.braze.Profiles()); got != n {
		w.t.Errorf("Braze holds %d profiles, the source %d users", got, n)
	}
}

// lockHolder reads the run holding the destination's lock from the emulator's tables.
func (w *world) lockHolder() string {
	w.t.Helper()
	var run *string
	if err := w.sf.DB().QueryRow(`SELECT RUN_ID FROM "BRAZESYNC.BRAZESYNC_LOCKS" WHERE DESTINATION = 'braze'`).Scan(&run); err != nil {
		w.t.Fatal(err)
	}
	if run == nil {
		return ""
	}
	return *run
}

// errorLine is the last log line of a run that mentions an error.
func errorLine(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "error") {
			return lines[i]
		}
	}
	return ""
}

// TestSecondMachineSendsNothing: the same spec run from two folders, each with an empty state_dir:
// the second run imports the first one's state from Snowflake and sends no user object.
func TestSecondMachineSendsNothing(t *testing.T) {
	w := newWorld(t, 500)
	first := w.mustSync(w.spec(false))
	if got := w.objects(); got != int64(w.users) {
		t.Fatalf("the first run sent %d objects, want %d", got, w.users)
	}
	if d := first.Report.Destinations["braze"]; d.StateUploaded != int64(w.users) || d.StateImported != 0 {
		t.Errorf("first run: imported %d, uploaded %d; want 0 and %d", d.StateImported, d.StateUploaded, w.users)
	}
	second := w.mustSync(w.spec(false))
	if got := w.objects() - int64(w.users); got != 0 {
		t.Errorf("the second run, on a fresh folder, sent %d objects, want 0", got)
	}
	d := second.Report.Destinations["braze"]
	if d.StateImported != int64(w.users) || d.StateUploaded != 0 || d.RowsUnchanged != int64(w.users) {
		t.Errorf("second run: imported %d, uploaded %d, unchanged %d; want %d, 0, %d", d.StateImported, d.StateUploaded, d.RowsUnchanged, w.users, w.users)
	}
	if second.Dir == first.Dir {
		t.Fatal("the runs shared a folder")
	}
	w.assertBrazeEqualsSource()
}

// liveSync is a `brazesync sync` running in the background in a folder of its own.
type liveSync struct {
	cmd    *exec.Cmd
	stderr *testbin.Buffer
	exited chan struct{}
	err    error
}

func (w *world) start(spec string) *liveSync {
	w.t.Helper()
	cmd := w.command(spec, "sync", "--log-format", "json", "--report", "report.json")
	s := &liveSync{cmd: cmd, stderr: &testbin.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { s.err = cmd.Wait(); close(s.exited) }()
	w.t.Cleanup(func() { _ = cmd.Process.Kill(); <-s.exited })
	return s
}

// command is `brazesync ARGS spec.yml` in a new, empty folder (a machine that never synced), with
// spec written there and the world's environment.
func (w *world) command(spec string, args ...string) *exec.Cmd {
	w.t.Helper()
	dir := w.t.TempDir()
	spec = strings.NewReplacer("{{BIN}}", testbin.Dir(w.t), "{{ROOT}}", testbin.Root()).Replace(spec)
	path := filepath.Join(dir, "spec.yml")
	if err := os.WriteFile(path, []byte(spec), 0o600); err != nil {
		w.t.Fatal(err)
	}
	cmd := exec.Command(testbin.Path(w.t, "brazesync"), append(args, path)...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range w.env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// waitFor polls cond until it holds (or fails the test after a minute).
func (w *world) waitFor(what string, cond func() bool) {
	w.t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// paced slows the destination to about 20 users a second, so a run is still sending when the
// test acts on it.
var paced = []string{"batch_size: 5", "concurrency: 1", "rate_limit: 4", "rate_window: 1s"}

// TestKilledRunIsResentFromAnotherFolder: a run killed with SIGKILL before its upload leaves the
// warehouse state at the previous run. Its lock refuses the next run, naming it, until it
// expires; then a run from another folder takes the lock over, sends what the older state
// implies — the changed users, those the killed run had delivered among them, and nothing else —
// and Braze ends equal to the source.
func TestKilledRunIsResentFromAnotherFolder(t *testing.T) {
	w := newWorld(t, 300)
	w.mustSync(w.spec(false))
	const changed = 200
	w.change(changed, "platinum")
	before := w.objects()

	killed := w.start(w.spec(false, paced...))
	w.waitFor("the paced run to deliver some users", func() bool { return w.objects()-before >= 40 })
	holder := w.lockHolder()
	if err := killed.cmd.Process.Kill(); err != nil { // SIGKILL: no upload, no release
		t.Fatal(err)
	}
	<-killed.exited
	time.Sleep(200 * time.Millisecond) // the destination plugin follows its host down
	delivered := w.objects() - before
	if delivered >= changed {
		t.Fatalf("the killed run finished before the kill (%d objects)", delivered)
	}

	refused := w.sync(w.spec(false))
	if refused.Code != runner.ExitConfig || !strings.Contains(refused.Stderr, "in use by run "+holder) {
		t.Fatalf("a run during the killed run's lock: exit %d, want a refusal naming run %s:\n%s", refused.Code, holder, testbin.Tail(refused.Stderr, 4000))
	}
	if got := w.objects() - before - delivered; got != 0 {
		t.Fatalf("the refused run sent %d objects", got)
	}

	w.sf.Advance(lockTimeout + time.Second) // the killed run's lock expires
	after := w.mustSync(w.spec(false))
	sent := w.objects() - before - delivered
	if sent != changed {
		t.Errorf("the run after the kill sent %d objects, want %d: the changed users, as the previous run's state implies", sent, changed)
	}
	if resent := sent - (changed - delivered); resent != delivered {
		t.Errorf("re-sent %d users, want the %d the killed run delivered", resent, delivered)
	}
	notes := strings.Join(after.Report.Notes, "\n")
	if !strings.Contains(notes, "took over the warehouse state's lock from run "+holder) {
		t.Errorf("the report does not say whose lock was taken over: %q", notes)
	}
	w.assertBrazeEqualsSource()
	t.Logf("killed after %d of %d changed users were delivered; the next run re-sent those %d", delivered, changed, delivered)
}

// TestConcurrentRunIsRefused: while one run holds the destination's state, a run from another
// folder is refused before it sends anything, naming the holder; the holder finishes normally.
func TestConcurrentRunIsRefused(t *testing.T) {
	w := newWorld(t, 60)
	holder := w.start(w.spec(false, paced...))
	w.waitFor("the first run to send", func() bool { return w.objects() >= 5 })
	run := w.lockHolder()
	host, _ := os.Hostname()

	refused := w.sync(w.spec(false))
	if refused.Code != runner.ExitConfig {
		t.Fatalf("the second run: exit %d, want %d (refused, like a state folder in use)", refused.Code, runner.ExitConfig)
	}
	t.Logf("refused with exit %d: %s", refused.Code, errorLine(refused.Stderr))
	for _, want := range []string{"in use by run " + run, "on " + host} {
		if !strings.Contains(refused.Stderr, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, testbin.Tail(refused.Stderr, 4000))
		}
	}
	select {
	case <-holder.exited:
	case <-time.After(time.Minute):
		t.Fatal("the first run did not finish")
	}
	if holder.err != nil {
		t.Fatalf("the first run failed: %v\n%s", holder.err, testbin.Tail(holder.stderr.String(), 4000))
	}
	if got := w.objects(); got != int64(w.users) {
		t.Errorf("Braze got %d objects, want %d: the refused run sent none", got, w.users)
	}
	if w.lockHolder() != "" {
		t.Error("the finished run left its lock held")
	}
}

// pushdownRows is the row count the last pushdown query returned, from the emulator's query log.
func (w *world) pushdownRows() int64 {
	w.t.Helper()
	h := w.sf.History()
	for i := len(h) - 1; i >= 0; i-- {
		if strings.Contains(h[i].SQL, "__BRAZESYNC_QUERY_ROWS") && !h[i].DescribeOnly {
			return h[i].Rows
		}
	}
	w.t.Fatal("no pushdown query in the emulator's query log")
	return 0
}

// TestPushdownReadsOnlyChangedRows: with pushdown: true, an unchanged re-sync reads one row (a
// summary with the query's row count) out of Snowflake and sends nothing; after three users change, the
// query returns those three and Braze ends equal to the source.
func TestPushdownReadsOnlyChangedRows(t *testing.T) {
	w := newWorld(t, 1000)
	w.mustSync(w.spec(true)) // no state yet: the query reads every row
	if got := w.objects(); got != int64(w.users) {
		t.Fatalf("the first run sent %d objects, want %d", got, w.users)
	}
	res := w.mustSync(w.spec(true))
	if got := w.pushdownRows(); got != 1 {
		t.Errorf("an unchanged re-sync read %d rows out of Snowflake, want 1 (the summary row with the query's row count)", got)
	}
	if d := res.Report.Destinations["braze"]; d.RowsRead != 0 || w.objects() != int64(w.users) {
		t.Errorf("an unchanged re-sync read %d rows and sent %d objects, want 0 and 0", d.RowsRead, w.objects()-int64(w.users))
	}
	if !strings.Contains(res.Stderr, `"rows_held_back":1000`) {
		t.Errorf("the source does not log the rows it held back:\n%s", testbin.Tail(res.Stderr, 4000))
	}
	if _, err := w.sf.DB().Exec(`UPDATE WH_USERS SET VISITS = VISITS + 1 WHERE ID IN ('wh_00003', 'wh_00500', 'wh_00999')`); err != nil {
		t.Fatal(err)
	}
	w.mustSync(w.spec(true))
	if got := w.pushdownRows(); got != 4 {
		t.Errorf("after three users changed the query returned %d rows, want 4 (three and the summary row)", got)
	}
	if got := w.objects() - int64(w.users); got != 3 {
		t.Errorf("sent %d objects, want 3", got)
	}
	w.assertBrazeEqualsSource()
}

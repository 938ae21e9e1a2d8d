package statee2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brazesync/brazesync/destination/state"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

const (
	apiKey = "sk-statee2e-SECRET-71c2"
	label  = "STATE_E2E"
)

// user is one source row: external_id, braze[score], braze[segment].
type user struct {
	id      string
	score   int64
	segment string
}

// population is n users; change(i) says whether user i's score is bumped (the "changed" run).
func population(n int, change func(i int) bool) []user {
	us := make([]user, n)
	for i := range us {
		us[i] = user{id: fmt.Sprintf("user-%06d", i), score: int64(i % 1000), segment: "segment-" + strconv.Itoa(i%7)}
		if change != nil && change(i) {
			us[i].score += 5000
		}
	}
	return us
}

// writeUsers writes users as a Parquet file in dir and returns its path.
func writeUsers(t *testing.T, dir, name string, us []user) string {
	t.Helper()
	path := filepath.Join(dir, name)
	testbin.WriteUsers(t, path, len(us), func(i int) (string, int64, string) { return us[i].id, us[i].score, us[i].segment })
	return path
}

// specFor is a file source reading file into the braze destination keeping its state in stateDir.
func specFor(file, stateDir string, extra ...string) string {
	return testbin.Spec(testbin.FileSource(file),
		testbin.BrazeDestination(label, append([]string{"state_dir: " + stateDir}, extra...)...))
}

// startBraze starts an emulator that accepts apiKey.
func startBraze(t *testing.T) *brazeemu.Emulator {
	return emutest.Braze(t, brazeemu.Options{APIKeys: []string{apiKey}})
}

func env(emu *brazeemu.Emulator) map[string]string {
	return map[string]string{"BRAZE_API_KEY": apiKey, "BRAZE_ENDPOINT": emu.URL()}
}

// sync runs brazesync to its end and fails the test unless it exits with want.
func sync(t *testing.T, emu *brazeemu.Emulator, spec string, want int, args ...string) testbin.Result {
	t.Helper()
	res := testbin.Sync(t, spec, testbin.SyncOptions{Env: env(emu), Args: args})
	if res.Code != want {
		t.Fatalf("brazesync sync exited %d, want %d\nstderr:\n%s", res.Code, want, testbin.Tail(res.Stderr, 3000))
	}
	if want == 0 && (res.Report == nil || !res.Report.Balanced()) {
		t.Fatalf("report missing or unbalanced: %+v", res.Report)
	}
	return res
}

// start runs brazesync sync on spec in a new process group and returns at once.
func start(t *testing.T, emu *brazeemu.Emulator, spec string) *testbin.Started {
	t.Helper()
	return testbin.Start(t, spec, testbin.SyncOptions{Env: env(emu)})
}

// quiesce waits until the emulator has finished the requests it was given (a killed client's
// requests still run to their end on the server), so its counters are final.
func quiesce(emu *brazeemu.Emulator) {
	last := emu.Stats()
	for stable := 0; stable < 4; {
		time.Sleep(50 * time.Millisecond)
		s := emu.Stats()
		if s.Requests == last.Requests && s.ObjectsReceived == last.ObjectsReceived && s.AttributesProcessed == last.AttributesProcessed {
			stable++
		} else {
			stable = 0
		}
		last = s
	}
}

// recorded opens the state folder read-only (no run may hold it) and returns its one namespace's
// records by user key, and the namespace.
func recorded(t *testing.T, dir string) (state.Namespace, map[string]state.Record) {
	t.Helper()
	st, err := state.Open(dir, state.Options{ReadOnly: true})
	if errors.Is(err, state.ErrNoState) {
		return state.Namespace{}, map[string]state.Record{} // killed before the store was made
	}
	if err != nil {
		t.Fatalf("opening the state: %v", err)
	}
	defer st.Close()
	ctx := context.Background()
	infos, err := st.Namespaces(ctx)
	if err != nil || len(infos) > 1 {
		t.Fatalf("namespaces: %+v %v", infos, err)
	}
	if len(infos) == 0 {
		return state.Namespace{}, map[string]state.Record{}
	}
	sp, err := st.Space(ctx, infos[0].Namespace)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]state.Record{}
	err = sp.Scan(ctx, 0, func(r *state.Record, _ bool) error {
		c := *r
		c.Key = append([]byte(nil), r.Key...)
		c.Attrs = append([]state.Attr(nil), r.Attrs...)
		out[string(c.Key)] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return infos[0].Namespace, out
}

// assertStoreEqualsSource checks that the state records exactly what the source holds: every user,
// each attribute's hash of its value as the encoder writes it, and the flag.
func assertStoreEqualsSource(t *testing.T, dir string, us []user) {
	t.Helper()
	ns, recs := recorded(t, dir)
	if ns.Destination != "braze" || ns.ExportValue != label {
		t.Errorf("namespace %+v", ns)
	}
	if len(recs) != len(us) {
		t.Fatalf("state holds %d users, source %d", len(recs), len(us))
	}
	for _, u := range us {
		r, ok := recs[u.id]
		if !ok {
			t.Fatalf("%s not in the state", u.id)
		}
		score, segment := r.Attr("score"), r.Attr("segment")
		seg, _ := json.Marshal(u.segment)
		if score == nil || score.Hash != state.HashValue([]byte(strconv.FormatInt(u.score, 10))) ||
			segment == nil || segment.Hash != state.HashValue(seg) || !r.Flagged {
			t.Fatalf("%s: state %+v does not match the source %+v", u.id, r, u)
		}
	}
}

// assertBrazeEqualsSource checks every profile in the emulator against the source.
func assertBrazeEqualsSource(t *testing.T, emu *brazeemu.Emulator, us []user) {
	t.Helper()
	if got := len(emu.Profiles()); got != len(us) {
		t.Fatalf("Braze holds %d profiles, the source %d users", got, len(us))
	}
	for _, u := range us {
		p, ok := emu.Profile(u.id)
		if !ok {
			t.Fatalf("%s not in Braze", u.id)
		}
		flags := fmt.Sprint(p.Custom["looker_export"])
		if fmt.Sprint(p.Custom["score"]) != strconv.FormatInt(u.score, 10) || p.Custom["segment"] != u.segment ||
			!strings.Contains(flags, label) {
			t.Fatalf("%s in Braze: %v, source %+v", u.id, p.Custom, u)
		}
	}
}

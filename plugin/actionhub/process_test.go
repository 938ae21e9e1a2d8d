package actionhub_test

// The hub writes through the braze-destination process, as `brazesync sync` does: the key is
// checked there before Looker's one-time download is touched, and a writer that dies fails its
// execution, not the hub.

import (
	"context"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/actionhub"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/test/procstat"
	"github.com/brazesync/brazesync/test/testbin"
)

func TestRefusedKeyLeavesTheDownloadUntouched(t *testing.T) {
	e := setup(t, envOptions{rows: 20, seed: true})
	look, _ := e.looker.Look(lookeremu.LookScenario)
	dl, err := e.looker.DownloadURL(look.Query)
	require.NoError(t, err)
	payload := func(key string) lookeremu.ExecutePayload {
		data := e.data()
		data["braze_api_key"] = key
		return lookeremu.ExecutePayload{Type: "query", ScheduledPlan: &lookeremu.ScheduledPlan{DownloadURL: dl},
			Data: data, FormParams: form("external_id", "KEYCHECK")}
	}

	refused, err := e.client.Execute(context.Background(), e.def, payload("not-the-key"))
	require.NoError(t, err)
	assert.False(t, refused.Success)
	assert.Contains(t, refused.Message, "Braze refused the API key")
	assert.Contains(t, refused.Message, "nothing was downloaded")
	assert.NotContains(t, refused.Message, "not-the-key")
	assert.Equal(t, 0, e.looker.Stats().Downloads, "the one-time download_url must not be consumed")

	// The admin fixes the key; the same download_url still works.
	ok, err := e.client.Execute(context.Background(), e.def, payload(brazeKey))
	require.NoError(t, err)
	require.True(t, ok.Success, ok.Message)
	assert.Equal(t, 1, e.looker.Stats().Downloads)
	assert.Contains(t, ok.Message, "20 rows read, 20 users sent")
	assertNoDestinationLeft(t)
}

// A destination that panics mid-execution (the hooked binary's BRAZESYNC_TEST_PANIC_AFTER_ROWS)
// fails that execution with a message saying so and every row accounted for; the hub goes on.
func TestDestinationCrashFailsOnlyItsExecution(t *testing.T) {
	t.Setenv("BRAZESYNC_TEST_PANIC_AFTER_ROWS", "10000")
	e := setup(t, envOptions{rows: 20_000, seed: true, hub: func(c *actionhub.Config) {
		c.DestinationPath = testbin.HookedDestination(t)
	}})
	crashed := e.send(lookeremu.LookScenario, form("external_id", "CRASH"))
	assert.False(t, crashed.Success)
	assert.Contains(t, crashed.Message, "exited unexpectedly")
	t.Log(crashed.Message)
	assertBalancedFailure(t, e, "CRASH")

	e.assertStillServing(t)
	// Fewer rows than the hook's threshold: the next execution, in a new process, succeeds.
	res, err := e.looker.SendLook(context.Background(), e.client, e.def, lookeremu.LookScenario, "1000", e.data(), form("external_id", "AFTER"))
	require.NoError(t, err)
	require.True(t, res.Success, res.Message)
	assert.Contains(t, res.Message, "1000 rows read, 1000 users sent")
	assertNoDestinationLeft(t)
}

// SIGKILL of the destination process while it sends: the same clear failure.
func TestKilledDestinationFailsOnlyItsExecution(t *testing.T) {
	e := setup(t, envOptions{rows: 20_000, seed: true, hub: func(c *actionhub.Config) {
		c.Destination = actionhub.DestinationOptions{RateLimit: 4} // a few requests per window: slow enough to kill
	}})
	done := make(chan *lookeremu.ActionResult, 1)
	go func() {
		res, _ := e.looker.SendLook(context.Background(), e.client, e.def, lookeremu.LookScenario, "", e.data(), form("external_id", "KILLED"))
		done <- res
	}()
	pid := waitFor(t, "the destination to deliver a first batch", func() (int, bool) {
		kids := destinationProcesses()
		bodies, _ := e.rec.tracks()
		return firstOf(kids), len(kids) == 1 && len(bodies) >= 2 // the key check, then users
	})
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	res := <-done
	require.NotNil(t, res)
	assert.False(t, res.Success)
	assert.Contains(t, res.Message, "exited unexpectedly")
	t.Log(res.Message)
	assertBalancedFailure(t, e, "KILLED")

	e.assertStillServing(t)
	res2, err := e.looker.SendLook(context.Background(), e.client, e.def, lookeremu.LookScenario, "10", e.data(), form("external_id", "AFTER"))
	require.NoError(t, err)
	require.True(t, res2.Success, res2.Message)
	assertNoDestinationLeft(t)
}

// assertBalancedFailure checks the failed execution's report: every row read is delivered,
// skipped, rejected or counted unaccounted, and the users Braze holds are those reported sent.
func assertBalancedFailure(t *testing.T, e *env, label string) {
	t.Helper()
	reps := e.reports()
	require.Len(t, reps, 1)
	rep := reps[0]
	assert.Equal(t, "failed", rep.Status)
	assert.Contains(t, rep.Error, "exited unexpectedly")
	assert.True(t, rep.Balanced(), "%+v", rep)
	assert.Positive(t, rep.RowsUnaccounted)
	flagged := 0
	for _, p := range e.braze.Profiles() {
		if l, _ := p.Custom["looker_export"].([]any); len(l) > 0 && l[0] == label {
			flagged++
		}
	}
	// Sent means Braze accepted it; rows in flight at the crash may have landed too.
	assert.GreaterOrEqual(t, int64(flagged), rep.UsersSent)
	assert.LessOrEqual(t, int64(flagged), rep.UsersSent+rep.RowsMerged+rep.RowsUnaccounted)
}

// assertStillServing checks the hub answers /status and lists the action.
func (e *env) assertStillServing(t *testing.T) {
	t.Helper()
	resp, err := http.Get(e.hubURL + "/status")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, status, err := e.client.List(context.Background())
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
}

// destinationProcesses lists this test process's braze-destination children.
func destinationProcesses() []int {
	var out []int
	for _, pid := range procstat.Children(os.Getpid()) {
		if st, ok := procstat.Read(pid); ok && strings.HasPrefix(st.Name, "braze-dest") {
			out = append(out, pid)
		}
	}
	return out
}

// assertNoDestinationLeft checks every execution stopped its destination process.
func assertNoDestinationLeft(t *testing.T) {
	t.Helper()
	waitFor(t, "every destination process to exit", func() (int, bool) { return 0, len(destinationProcesses()) == 0 })
}

// waitFor polls cond until it holds; the deadline only stops a broken test from hanging.
func waitFor[T any](t *testing.T, what string, cond func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		v, ok := cond()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func firstOf(s []int) int {
	if len(s) == 0 {
		return 0
	}
	return s[0]
}

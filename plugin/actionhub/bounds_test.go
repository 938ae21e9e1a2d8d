package actionhub_test

// Hostile or broken Looker traffic ends in a clear failed execution within the configured bounds,
// while other executions and /status go on, and the hub's memory does not follow the attacker.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/actionhub"
	"github.com/brazesync/brazesync/plugin/emulator/lookeremu"
	"github.com/brazesync/brazesync/test/procstat"
)

// rssBound is the most the hub's process may grow while it serves the hostile executions below:
// the decoder, four slots' buffers and records, and the in-process emulators' own traffic. Before
// the bounds, the whitespace download alone grew it by twice the bytes streamed (256 MiB here).
const rssBound = 128 << 20

// trackRSS resets this process's peak resident memory (VmHWM) to what it uses now; the returned
// function reads the peak and the growth since.
func trackRSS(t *testing.T) func() (peak, growth int64) {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("cannot reset the peak resident memory (%v): the peak includes earlier tests", err)
	}
	st, ok := procstat.Read(os.Getpid())
	require.True(t, ok)
	return func() (int64, int64) {
		now, _ := procstat.Read(os.Getpid())
		return now.Peak, now.Peak - st.RSS
	}
}

func assertRSS(t *testing.T, rss func() (int64, int64)) {
	t.Helper()
	peak, growth := rss()
	t.Logf("peak RSS %.1f MiB, growth during the test %.1f MiB (bound %d MiB)", mib(peak), mib(growth), rssBound>>20)
	if !raceEnabled {
		assert.Less(t, growth, int64(rssBound))
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// executeURL posts an execute payload for a download_url, as Looker does.
func (e *env) executeURL(ctx context.Context, url, label string) (*lookeremu.ActionResult, error) {
	return e.client.Execute(ctx, e.def, lookeremu.ExecutePayload{Type: "query",
		ScheduledPlan: &lookeremu.ScheduledPlan{DownloadURL: url}, Data: e.data(), FormParams: form("external_id", label)})
}

// statusPoller GETs /status until stopped and counts the answers.
func (e *env) statusPoller() (stop func() (ok, failed int)) {
	var okN, failN atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			resp, err := http.Get(e.hubURL + "/status")
			if err == nil && resp.StatusCode == http.StatusOK {
				okN.Add(1)
			} else {
				failN.Add(1)
			}
			if err == nil {
				resp.Body.Close()
			}
		}
	}()
	return func() (int, int) { close(done); wg.Wait(); return int(okN.Load()), int(failN.Load()) }
}

func TestHostileDownloadsEndWithinTheBounds(t *testing.T) {
	lim := actionhub.Limits{MaxDownloadBytes: 256 << 20, MaxRowBytes: 256 << 10, MaxHeaderBytes: 256 << 10,
		DownloadIdleTimeout: 5 * time.Second}
	e := setup(t, envOptions{rows: 50, seed: true, hub: func(c *actionhub.Config) { c.Limits = lim }})
	rss := trackRSS(t)
	cases := []struct {
		mode lookeremu.Hostile
		want string
	}{
		{lookeremu.HostileWhitespace, "the download is larger than the limit (--max-download-bytes 268435456)"},
		{lookeremu.HostileString, "a row is larger than the limit of 262144 bytes (--max-row-bytes)"},
		{lookeremu.HostileFields, "a section is larger than the limit of 262144 bytes (--max-header-bytes)"},
	}
	stopPolling := e.statusPoller()
	var wg sync.WaitGroup
	results := make([]*lookeremu.ActionResult, len(cases))
	downloads := make([]*lookeremu.HostileDownload, len(cases))
	for i, c := range cases {
		downloads[i] = e.looker.HostileDownloadURL(c.mode)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = e.executeURL(context.Background(), downloads[i].URL, fmt.Sprint("HOSTILE", i))
		}()
	}
	// A real Look sent meanwhile is delivered whole.
	normal := e.send(lookeremu.LookScenario, form("external_id", "NORMAL"))
	wg.Wait()
	ok, failed := stopPolling()

	require.True(t, normal.Success, normal.Message)
	assert.Contains(t, normal.Message, "50 rows read, 50 users sent")
	for i, c := range cases {
		require.NotNil(t, results[i], c.mode)
		assert.False(t, results[i].Success, c.mode)
		assert.Contains(t, results[i].Message, c.want, c.mode)
		waitFor(t, c.mode.String()+" to be cancelled", func() (bool, bool) { return true, isClosed(downloads[i].Gone()) })
	}
	// The whitespace download stopped at the limit, give or take the sockets' buffers.
	assert.Less(t, downloads[0].Served(), int64(lim.MaxDownloadBytes+64<<20))
	assert.Positive(t, ok)
	assert.Zero(t, failed, "/status answered every time")
	assertRSS(t, rss)
	assertNoDestinationLeft(t)
}

// A download that sends a byte now and then is never idle: the total download timeout ends it.
func TestTricklingDownloadEndsAtTheTotalTimeout(t *testing.T) {
	e := setup(t, envOptions{rows: 1, hub: func(c *actionhub.Config) {
		c.Limits = actionhub.Limits{DownloadIdleTimeout: time.Minute, DownloadTimeout: time.Second}
	}})
	d := e.looker.HostileDownloadURL(lookeremu.HostileTrickle)
	res, err := e.executeURL(context.Background(), d.URL, "TRICKLE")
	require.NoError(t, err)
	assert.False(t, res.Success)
	assert.Contains(t, res.Message, "the download took too long (--download-timeout 1s)")
	waitFor(t, "the trickling download to be cancelled", func() (bool, bool) { return true, isClosed(d.Gone()) })
	assert.Equal(t, "failed", e.reports()[0].Status)
}

// Four executions whose download never answers take the four slots: each fails at the idle
// timeout, and an execution queued behind them then runs.
func TestHangingDownloadsDoNotStarveTheHub(t *testing.T) {
	e := setup(t, envOptions{rows: 30, seed: true, hub: func(c *actionhub.Config) {
		c.Limits = actionhub.Limits{DownloadIdleTimeout: time.Second, QueueWait: time.Minute}
	}})
	hangs, results, wait := e.startHanging(t, 4)
	stopPolling := e.statusPoller()
	queued := e.send(lookeremu.LookScenario, form("external_id", "QUEUED"))
	wait()
	ok, failed := stopPolling()

	require.True(t, queued.Success, queued.Message)
	assert.Contains(t, queued.Message, "30 rows read, 30 users sent")
	for i := range hangs {
		require.NotNil(t, results[i])
		assert.False(t, results[i].Success)
		assert.Contains(t, results[i].Message, "the download sent no bytes for too long (--download-idle-timeout 1s)")
	}
	assert.Positive(t, ok)
	assert.Zero(t, failed)
}

// With a queue wait shorter than the hanging downloads, a queued execution is answered busy
// without its download_url ever being fetched; and when Looker hangs up, the hanging downloads
// are cancelled at once.
func TestQueueWaitAndHangingUp(t *testing.T) {
	e := setup(t, envOptions{rows: 30, seed: true, hub: func(c *actionhub.Config) {
		c.Limits = actionhub.Limits{DownloadIdleTimeout: time.Hour, QueueWait: 300 * time.Millisecond}
	}})
	ctx, hangUp := context.WithCancel(context.Background())
	hangs, _, wait := e.startHangingCtx(t, ctx, 4)

	look, _ := e.looker.Look(lookeremu.LookScenario)
	dl, err := e.looker.DownloadURL(look.Query)
	require.NoError(t, err)
	before := e.looker.Stats().Downloads
	busy, err := e.executeURL(context.Background(), dl, "BUSY")
	require.NoError(t, err)
	assert.False(t, busy.Success)
	assert.Contains(t, busy.Message, "The action hub is busy: all 4 execution slots stayed taken (--queue-wait 300ms)")
	assert.Contains(t, busy.Message, "nothing was downloaded")
	assert.Equal(t, before, e.looker.Stats().Downloads, "a busy answer leaves the download_url unused")

	hangUp() // Looker gives up on the four executions
	wait()
	for _, h := range hangs {
		waitFor(t, "the hanging download to be cancelled", func() (bool, bool) { return true, isClosed(h.Gone()) })
	}
	waitFor(t, "the five reports", func() (int, bool) { return 0, len(e.reports()) == 5 })
	cancelled := 0
	for _, r := range e.reports() {
		if r.Status == "cancelled" {
			cancelled++
			assert.Contains(t, r.Error, "Looker closed the connection")
		}
	}
	assert.Equal(t, 4, cancelled)
	assertNoDestinationLeft(t)

	// The slots are free again: the same download_url now runs.
	res, err := e.executeURL(context.Background(), dl, "AFTER")
	require.NoError(t, err)
	require.True(t, res.Success, res.Message)
}

// With every slot taken and MaxQueued executions already waiting, one more execute call is
// answered busy at once, naming --max-queued, without touching its download_url; the queued one
// still runs once a slot frees.
func TestQueueIsBounded(t *testing.T) {
	e := setup(t, envOptions{rows: 30, seed: true, hub: func(c *actionhub.Config) {
		c.Limits = actionhub.Limits{DownloadIdleTimeout: time.Hour, QueueWait: time.Hour, MaxQueued: 1}
	}})
	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp() // on failure too: the hub's shutdown waits for the hanging executions
	_, _, wait := e.startHangingCtx(t, ctx, 4)

	look, _ := e.looker.Look(lookeremu.LookScenario)
	dl, err := e.looker.DownloadURL(look.Query)
	require.NoError(t, err)
	queued := make(chan *lookeremu.ActionResult, 1)
	go func() {
		res, err := e.executeURL(context.Background(), dl, "QUEUED")
		if err != nil {
			t.Errorf("the queued execution: %v", err)
		}
		queued <- res
	}()
	time.Sleep(200 * time.Millisecond) // let it reach the queue
	before := e.looker.Stats().Downloads
	// Queued, the call would wait out the hour's queue wait: the deadline fails it instead.
	soon, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	busy, err := e.executeURL(soon, dl, "BUSY")
	require.NoError(t, err, "the execution beyond --max-queued was queued")
	assert.False(t, busy.Success)
	assert.Contains(t, busy.Message, "all 4 execution slots are taken and 1 executions wait for one (--max-queued 1)")
	assert.Contains(t, busy.Message, "nothing was downloaded")
	assert.Equal(t, before, e.looker.Stats().Downloads, "a busy answer leaves the download_url unused")

	hangUp() // the slots free: the queued execution runs
	wait()
	select {
	case res := <-queued:
		require.NotNil(t, res)
		require.True(t, res.Success, res.Message)
	case <-time.After(time.Minute):
		t.Fatal("the queued execution did not run once the slots were free")
	}
}

// Execute bodies are read only inside a slot, MaxBodyBytes at most: six queued 100 MB bodies do
// not sit in the hub's memory, and each is refused by size when its turn comes.
func TestQueuedBodiesAreNotRead(t *testing.T) {
	const maxBody = 8 << 20
	e := setup(t, envOptions{rows: 1, hub: func(c *actionhub.Config) {
		c.MaxConcurrent = 1
		c.Limits = actionhub.Limits{MaxBodyBytes: maxBody, DownloadIdleTimeout: 2 * time.Second, QueueWait: time.Minute}
	}})
	rss := trackRSS(t)
	_, _, waitHang := e.startHanging(t, 1)
	bodies := make([]*bigBody, 6)
	results := make([]*lookeremu.ActionResult, len(bodies))
	var wg sync.WaitGroup
	for i := range bodies {
		bodies[i] = newBigBody(e, 100<<20)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = e.client.ExecuteBody(context.Background(), e.def, bodies[i])
		}()
	}
	wg.Wait()
	waitHang()
	for i, b := range bodies {
		require.NotNil(t, results[i], "body %d", i)
		assert.False(t, results[i].Success)
		assert.Contains(t, results[i].Message, fmt.Sprintf("larger than the limit (--max-body-bytes %d)", maxBody))
		// What left the client: the hub's share plus the sockets' buffers, not 100 MB.
		assert.Less(t, b.read.Load(), int64(maxBody+48<<20), "body %d", i)
	}
	assertRSS(t, rss)
}

// A caller that stops sending its execute body mid-way frees its slot at the idle timeout.
func TestStalledBodyFreesItsSlot(t *testing.T) {
	e := setup(t, envOptions{rows: 5, seed: true, hub: func(c *actionhub.Config) {
		c.MaxConcurrent = 1
		c.Limits = actionhub.Limits{DownloadIdleTimeout: 500 * time.Millisecond, QueueWait: time.Minute}
	}})
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = pw.Write([]byte(`{"type":"query","data":{`)) }() // and nothing more
	stalled, err := e.client.ExecuteBody(context.Background(), e.def, pr)
	require.NoError(t, err)
	assert.False(t, stalled.Success)
	assert.Contains(t, stalled.Message, "The execute request body stalled: no byte for 500ms (--download-idle-timeout)")

	res := e.send(lookeremu.LookScenario, form("external_id", "NEXT"))
	require.True(t, res.Success, res.Message)
}

// bigBody is an execute payload with an inline attachment of n bytes, generated as it is read.
type bigBody struct {
	head, tail []byte
	n          int64
	read       atomic.Int64
}

func newBigBody(e *env, n int64) *bigBody {
	data := fmt.Sprintf(`{"braze_api_key":%q,"braze_api_endpoint":%q}`, brazeKey, e.brazeURL)
	return &bigBody{head: []byte(`{"type":"query","data":` + data + `,"form_params":{"braze_key":"external_id"},` +
		`"attachment":{"mimetype":"application/json","data":"`), tail: []byte(`"}}`), n: n}
}

func (b *bigBody) Read(p []byte) (int, error) {
	k := 0
	switch {
	case len(b.head) > 0:
		k = copy(p, b.head)
		b.head = b.head[k:]
	case b.n > 0:
		k = int(min(int64(len(p)), b.n))
		for i := range k {
			p[i] = 'A'
		}
		b.n -= int64(k)
	case len(b.tail) > 0:
		k = copy(p, b.tail)
		b.tail = b.tail[k:]
	default:
		return 0, io.EOF
	}
	b.read.Add(int64(k))
	return k, nil
}

// startHanging starts n executions whose download never answers and waits until each has been
// fetched, so they hold n slots. wait waits for their answers.
func (e *env) startHanging(t *testing.T, n int) ([]*lookeremu.HostileDownload, []*lookeremu.ActionResult, func()) {
	return e.startHangingCtx(t, context.Background(), n)
}

func (e *env) startHangingCtx(t *testing.T, ctx context.Context, n int) ([]*lookeremu.HostileDownload, []*lookeremu.ActionResult, func()) {
	t.Helper()
	hangs := make([]*lookeremu.HostileDownload, n)
	results := make([]*lookeremu.ActionResult, n)
	var wg sync.WaitGroup
	for i := range hangs {
		hangs[i] = e.looker.HostileDownloadURL(lookeremu.HostileHang)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = e.executeURL(ctx, hangs[i].URL, fmt.Sprint("HANG", i))
		}()
	}
	waitFor(t, "the hanging downloads to be fetched", func() (bool, bool) {
		for _, h := range hangs {
			if h.Fetches() == 0 {
				return false, false
			}
		}
		return true, true
	})
	return hangs, results, wg.Wait
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

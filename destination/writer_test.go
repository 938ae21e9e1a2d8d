package destination

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
)

// TestWriterMergesDuplicates: rows of one user in one request become one object whose attributes
// come from the last row carrying them; rows of one user in different requests are applied in row
// order. Either way the profile equals sequential application, and merged rows are counted.
func TestWriterMergesDuplicates(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"batch_size": 3, "export_attribute": ""})
	rec := usersRecord("users", []userRow{
		{ID: str("a"), Name: str("a1"), Score: num(1)},
		{ID: str("b"), Name: str("b1")},
		{ID: str("a"), Score: num(2)}, // merged into a's object: name a1 stays, score 2 wins
		{ID: str("c"), Name: str("c1")},
		{ID: str("d"), Name: str("d1")},
		{ID: str("a"), Name: str("a3")}, // next request, after a's request ended
	})
	w, werr, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{rec})
	require.NoError(t, werr)
	require.NoError(t, cerr)
	rep := w.Progress()
	assert.True(t, rep.Balanced(), rep.Summary())
	assert.Equal(t, int64(6), rep.RowsRead)
	assert.Equal(t, int64(1), rep.RowsMerged)
	assert.Equal(t, int64(5), rep.UsersSent)
	a, ok := emu.Profile("a")
	require.True(t, ok)
	assert.Equal(t, "a3", a.Custom["name"])
	assert.Equal(t, int64(2), a.Custom["score"])
}

// TestWriterNeverOverlapsAUser: with many workers, slow answers and a user on every row, no two
// requests carrying the same user are ever in flight at once.
func TestWriterNeverOverlapsAUser(t *testing.T) {
	emu := brazeemu.New(brazeemu.Options{APIKeys: []string{testKey}})
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 2 * time.Millisecond})
	var mu sync.Mutex
	inFlight := map[string]bool{}
	var overlaps, requests int
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Attributes []struct {
				ExternalID string `json:"external_id"`
			} `json:"attributes"`
		}
		_ = json.Unmarshal(body, &req)
		mu.Lock()
		requests++
		for _, a := range req.Attributes {
			if inFlight[a.ExternalID] {
				overlaps++
			}
			inFlight[a.ExternalID] = true
		}
		mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		emu.ServeHTTP(rw, r)
		mu.Lock()
		for _, a := range req.Attributes {
			delete(inFlight, a.ExternalID)
		}
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	spec := testSpec(t, srv.URL, map[string]any{"batch_size": 2, "concurrency": 8})
	var rows []userRow
	for i := range 400 {
		rows = append(rows, userRow{ID: str(fmt.Sprintf("u%d", i%7)), Score: num(int64(i))})
	}
	w, werr, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{usersRecord("users", rows)})
	require.NoError(t, werr)
	require.NoError(t, cerr)
	assert.Zero(t, overlaps, "requests for one user overlapped")
	assert.Greater(t, requests, 10)
	rep := w.Progress()
	assert.True(t, rep.Balanced(), rep.Summary())
	for u := range 7 {
		p, ok := emu.Profile(fmt.Sprintf("u%d", u))
		require.True(t, ok)
		last := 399 - (399-u)%7
		assert.Equal(t, int64(last), p.Custom["score"], "user u%d: the last row must win", u)
	}
}

// TestWriterPartialFailure: a 201 with errors[] dead-letters exactly the listed objects' rows, with
// Braze's reason, and counts the minor errors by type.
func TestWriterPartialFailure(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"batch_size": 5})
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultMinorErrors, After: 1, Count: 1, Indexes: []int{1, 3}, Message: "bad thing"})
	var rows []userRow
	for i := range 5 {
		rows = append(rows, userRow{ID: str(fmt.Sprintf("p%d", i)), Name: str("n")})
	}
	w, werr, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{usersRecord("users", rows)})
	require.NoError(t, werr)
	require.NoError(t, cerr)
	rep := w.Progress()
	assert.True(t, rep.Balanced(), rep.Summary())
	assert.Equal(t, int64(3), rep.UsersSent)
	assert.Equal(t, map[string]int64{ReasonMinorError: 2}, rep.RowsRejected)
	assert.Equal(t, int64(2), rep.MinorErrors["bad thing"])
	lines := readDeadLetters(t, spec.DeadLetterFile)
	require.Len(t, lines, 2)
	for i, l := range lines {
		assert.Equal(t, fmt.Sprintf("p%d", 1+2*i), l.Key)
		assert.Equal(t, int64(1+2*i), l.Row)
		assert.Equal(t, "users", l.Table)
		assert.Equal(t, "bad thing", l.Detail)
		assert.Contains(t, string(l.Attributes), `"name":"n"`)
	}
	for i := range 5 {
		_, ok := emu.Profile(fmt.Sprintf("p%d", i))
		assert.Equal(t, i%2 == 0, ok, "p%d", i)
	}
}

// TestWriterNotSuccess: a 2xx whose message is not "success" is a failure: its rows are dead-lettered.
func TestWriterNotSuccess(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if string(body) == "{}" {
			rw.WriteHeader(http.StatusBadRequest) // the preflight: the key is good
			return
		}
		rw.WriteHeader(http.StatusCreated)
		_, _ = rw.Write([]byte(`{"message":"Valid data must be provided","errors":[]}`))
	}))
	t.Cleanup(srv.Close)
	spec := testSpec(t, srv.URL, nil)
	w, werr, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{usersRecord("users", []userRow{{ID: str("x"), Name: str("y")}})})
	require.NoError(t, werr)
	require.NoError(t, cerr)
	rep := w.Progress()
	assert.Equal(t, map[string]int64{ReasonNotSuccess: 1}, rep.RowsRejected)
	assert.Zero(t, rep.UsersSent)
	assert.True(t, rep.Balanced())
}

// TestWriterUnreachable: Braze dies mid-run. The writer ends with ErrUnreachable, every row is
// accounted for, and the rows not delivered are dead-lettered as unreachable.
func TestWriterUnreachable(t *testing.T) {
	emu := brazeemu.New(brazeemu.Options{APIKeys: []string{testKey}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	spec := testSpec(t, srv.URL, map[string]any{"batch_size": 10})
	ctx := t.Context()
	w, err := NewWriter(ctx, spec, zerolog.Nop(), WithRetryPolicy(fastRetry))
	require.NoError(t, err)
	batchOf := func(from int) arrow.Record {
		var rows []userRow
		for i := from; i < from+100; i++ {
			rows = append(rows, userRow{ID: str(fmt.Sprintf("k%d", i)), Score: num(int64(i))})
		}
		return usersRecord("users", rows)
	}
	require.NoError(t, w.Write(ctx, batchOf(0)))
	require.Eventually(t, func() bool { return w.Progress().UsersSent == 100 }, 10*time.Second, time.Millisecond)
	srv.CloseClientConnections()
	srv.Close()
	var werr error
	for i := 1; i < 50 && werr == nil; i++ {
		werr = w.Write(ctx, batchOf(100*i))
	}
	rep, cerr := w.Close(context.Background())
	require.Error(t, cerr)
	assert.ErrorIs(t, cerr, brazeapi.ErrUnreachable)
	if werr != nil {
		assert.ErrorIs(t, werr, brazeapi.ErrUnreachable)
	}
	assert.True(t, rep.Balanced(), rep.Summary())
	assert.Equal(t, int64(100), rep.UsersSent)
	assert.Positive(t, rep.RowsRejected[ReasonUnreachable])
	assert.Equal(t, rep.RowsRead-100, rep.RowsRejected[ReasonUnreachable], rep.Summary())
	assert.Len(t, readDeadLetters(t, spec.DeadLetterFile), int(rep.Rejected()))
}

// TestWriterAuthFailsFast: a wrong key fails NewWriter with ErrUnauthorized before any row.
func TestWriterAuthFailsFast(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"api_key": "wrong-key"})
	_, err := NewWriter(t.Context(), spec, zerolog.Nop())
	assert.ErrorIs(t, err, brazeapi.ErrUnauthorized)
	assert.True(t, brazeapi.Fatal(err))
	assert.Equal(t, int64(1), emu.Stats().Requests)
}

// TestWriterDryRun: every request is built and written to the payload file; nothing is sent.
func TestWriterDryRun(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	dryFile := t.TempDir() + "/dry.jsonl"
	spec := testSpec(t, emu.URL(), map[string]any{"dry_run": true, "dry_run_file": dryFile, "batch_size": 2})
	rec := usersRecord("users", []userRow{
		{ID: str("a"), Name: str("x")}, {ID: str("b"), Name: str("y")}, {ID: str("a"), Name: str("z")}, {ID: nil},
	})
	w, werr, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{rec})
	require.NoError(t, werr)
	require.NoError(t, cerr)
	assert.Zero(t, emu.Stats().Requests, "a dry run sends nothing, not even the preflight")
	rep := w.Progress()
	assert.True(t, rep.Balanced(), rep.Summary())
	assert.Equal(t, int64(1), rep.RowsSkipped["null_key"])
	raw, err := os.ReadFile(dryFile)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var objects int
	for _, l := range lines {
		var body struct{ Attributes []map[string]any }
		require.NoError(t, json.Unmarshal([]byte(l), &body))
		objects += len(body.Attributes)
	}
	assert.Equal(t, int64(objects), rep.RowsSkipped["dry_run"])
	assert.Equal(t, int64(3), int64(objects)+rep.RowsMerged)
	assert.NotContains(t, string(raw), testKey)
}

// TestWriterRejectionThreshold: more rejections than max_rejected_rows fail Close with
// ErrTooManyRejected, the report still complete; ratio likewise; within limits it succeeds.
func TestWriterRejectionThreshold(t *testing.T) {
	long := strings.Repeat("x", 300) // over 255 characters: invalid_value
	rows := []userRow{{ID: str("a"), Name: str(long)}, {ID: str("b"), Name: str(long)}, {ID: str("c"), Name: str("ok")}, {ID: str("d"), Name: str("ok")}}
	for _, tc := range []struct {
		name  string
		extra map[string]any
		fail  bool
	}{
		{"no limit", nil, false},
		{"rows within", map[string]any{"max_rejected_rows": 2}, false},
		{"rows over", map[string]any{"max_rejected_rows": 1}, true},
		{"zero", map[string]any{"max_rejected_rows": 0}, true},
		{"ratio within", map[string]any{"max_rejected_ratio": 0.5}, false},
		{"ratio over", map[string]any{"max_rejected_ratio": 0.25}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := startEmu(t, brazeemu.Options{})
			spec := testSpec(t, emu.URL(), tc.extra)
			w, werr, cerr := run(t, spec, zerolog.Nop(), []arrow.Record{usersRecord("users", rows)})
			require.NoError(t, werr)
			rep := w.Progress()
			assert.True(t, rep.Balanced())
			assert.Equal(t, int64(2), rep.RowsRejected[ReasonInvalidValue])
			if tc.fail {
				assert.ErrorIs(t, cerr, ErrTooManyRejected)
				assert.False(t, IsConfigError(cerr))
			} else {
				assert.NoError(t, cerr)
			}
			lines := readDeadLetters(t, spec.DeadLetterFile)
			require.Len(t, lines, 2)
			assert.Equal(t, "braze[name]", lines[0].Column)
			assert.Equal(t, "name", lines[0].Attribute)
			assert.NotContains(t, lines[0].Detail, long)
		})
	}
}

// TestWriterCloseDeadline: a shutdown whose deadline passes while requests hang abandons them; the
// report is balanced, with the abandoned rows dead-lettered as run_cancelled.
func TestWriterCloseDeadline(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"batch_size": 10})
	w, err := NewWriter(t.Context(), spec, zerolog.Nop(), WithRetryPolicy(fastRetry))
	require.NoError(t, err)
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 2 * time.Second})
	var rows []userRow
	for i := range 35 {
		rows = append(rows, userRow{ID: str(fmt.Sprintf("h%d", i)), Score: num(1)})
	}
	require.NoError(t, w.Write(t.Context(), usersRecord("users", rows)))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	rep, cerr := w.Close(ctx)
	assert.True(t, rep.Balanced(), rep.Summary())
	assert.Equal(t, int64(35), rep.RowsRejected[ReasonCancelled], rep.Summary())
	_ = cerr // the rejections are the consequence of the deadline; the caller classifies the shutdown
}

// TestWriterAbort: Abort cancels the run; Close then reports context.Canceled and a balanced report.
func TestWriterAbort(t *testing.T) {
	emu := startEmu(t, brazeemu.Options{})
	spec := testSpec(t, emu.URL(), map[string]any{"batch_size": 10})
	w, err := NewWriter(t.Context(), spec, zerolog.Nop(), WithRetryPolicy(fastRetry))
	require.NoError(t, err)
	emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultDelay, Delay: 2 * time.Second})
	var rows []userRow
	for i := range 25 {
		rows = append(rows, userRow{ID: str(fmt.Sprintf("h%d", i)), Score: num(1)})
	}
	require.NoError(t, w.Write(t.Context(), usersRecord("users", rows)))
	w.Abort()
	rep, cerr := w.Close(context.Background())
	assert.ErrorIs(t, cerr, context.Canceled)
	assert.False(t, errors.Is(cerr, ErrTooManyRejected))
	assert.True(t, rep.Balanced(), rep.Summary())
	assert.Equal(t, int64(25), rep.RowsRejected[ReasonCancelled])
	_ = report.StatusCancelled
}

package destination

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
)

// TestSecretNeverLeaks: the API key appears in no error, log line, report or dead-letter line, even
// when the server echoes it back in its answers, fails, or the key is refused.
func TestSecretNeverLeaks(t *testing.T) {
	var calls atomic.Int64
	echo := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		if strings.Contains(string(body), testKey) || strings.Contains(r.URL.String(), testKey) {
			t.Errorf("the key travelled outside the Authorization header")
		}
		n := calls.Add(1)
		switch {
		case n == 1: // preflight
			rw.WriteHeader(http.StatusBadRequest)
		case n%3 == 0:
			rw.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(rw, `{"message":"overloaded, your header was %s"}`, auth)
		default:
			rw.WriteHeader(http.StatusCreated)
			fmt.Fprintf(rw, `{"message":"success","errors":[{"type":"bad key %s","input_array":"attributes","index":0}]}`, auth)
		}
	}))
	t.Cleanup(echo.Close)
	refuse := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(rw, `{"message":"invalid key %s"}`, r.Header.Get("Authorization"))
	}))
	t.Cleanup(refuse.Close)

	log, logs := logBuffer()
	var texts []string

	// A refused key: the error says so without repeating it.
	spec := testSpec(t, refuse.URL, nil)
	_, err := NewWriter(t.Context(), spec, log)
	require.Error(t, err)
	texts = append(texts, err.Error())

	// Echoed keys in answers, retries, minor errors and a report.
	spec = testSpec(t, echo.URL, map[string]any{"batch_size": 2, "report_file": filepath.Join(t.TempDir(), "r.json")})
	var rows []userRow
	for i := range 20 {
		rows = append(rows, userRow{ID: str(fmt.Sprintf("s%d", i)), Name: str("n")})
	}
	w, werr, cerr := run(t, spec, log, []arrow.Record{usersRecord("users", rows)})
	for _, e := range []error{werr, cerr} {
		if e != nil {
			texts = append(texts, e.Error())
		}
	}
	rep := w.Progress()
	assert.Positive(t, rep.Rejected(), "the echoed minor errors dead-letter rows")
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	texts = append(texts, string(b), rep.Summary())
	dead, err := os.ReadFile(spec.DeadLetterFile)
	require.NoError(t, err)
	texts = append(texts, string(dead))
	assert.Contains(t, string(dead), "[REDACTED]", "the echoed key was redacted, not dropped silently")

	// A Braze that goes away: transport errors carry URLs, never the key.
	emu := brazeemu.New(brazeemu.Options{APIKeys: []string{testKey}})
	srv := httptest.NewServer(emu)
	spec = testSpec(t, srv.URL, nil)
	w2, err := NewWriter(t.Context(), spec, log, WithRetryPolicy(fastRetry))
	require.NoError(t, err)
	srv.Close()
	werr = w2.Write(t.Context(), usersRecord("users", rows))
	_, cerr = w2.Close(t.Context())
	require.Error(t, cerr)
	texts = append(texts, cerr.Error())
	if werr != nil {
		texts = append(texts, werr.Error())
	}

	texts = append(texts, logs.String())
	for i, s := range texts {
		assert.NotContains(t, s, testKey, "text %d leaks the key", i)
	}
	assert.NotEmpty(t, logs.String(), "the logs were captured")
}

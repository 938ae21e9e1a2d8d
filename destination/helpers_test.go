package destination

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/sampledata"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination/brazeapi"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
)

const testKey = "sk-test-SECRET-4e1f9c"

// fastRetry retries in milliseconds, so fault tests run quickly without changing what is retried.
var fastRetry = brazeapi.RetryPolicy{MaxAttempts: 6, WaitMin: time.Millisecond, WaitMax: 5 * time.Millisecond}

// userRow is one row of the test table: external_id, braze[name], braze[score].
type userRow = sampledata.UserRow

func str(s string) *string { return &s }
func num(n int64) *int64   { return &n }

// usersRecord builds a record of the users table.
func usersRecord(table string, rows []userRow) arrow.Record {
	return sampledata.UsersRecord(table, rows)
}

// testSpec returns a parsed spec for an emulator, writing files into t.TempDir.
func testSpec(t *testing.T, endpoint string, extra map[string]any) *Spec {
	t.Helper()
	dir := t.TempDir()
	raw := map[string]any{
		"api_key":              testKey,
		"endpoint":             endpoint,
		"update_existing_only": false,
		"dead_letter_file":     filepath.Join(dir, "dead.jsonl"),
		"state_dir":            filepath.Join(dir, "state"),
		"concurrency":          4,
	}
	for k, v := range extra {
		raw[k] = v
	}
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSpec(b)
	if err != nil {
		t.Fatalf("ParseSpec: %v", err)
	}
	return s
}

func startEmu(t *testing.T, o brazeemu.Options) *brazeemu.Emulator {
	t.Helper()
	if o.APIKeys == nil {
		o.APIKeys = []string{testKey}
	}
	return emutest.Braze(t, o)
}

// run writes the records through a new Writer and closes it.
func run(t *testing.T, spec *Spec, log zerolog.Logger, recs []arrow.Record, opts ...Option) (*Writer, error, error) {
	t.Helper()
	ctx := t.Context()
	w, err := NewWriter(ctx, spec, log, append([]Option{WithRetryPolicy(fastRetry)}, opts...)...)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	var werr error
	for _, r := range recs {
		if werr = w.Write(ctx, r); werr != nil {
			break
		}
	}
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, cerr := w.Close(cctx)
	return w, werr, cerr
}

// readDeadLetters decodes the dead-letter file (none if it does not exist).
func readDeadLetters(t *testing.T, path string) []DeadLetterLine {
	t.Helper()
	lines, err := ReadDeadLetters(path)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// logBuffer returns a zerolog logger writing into a buffer.
func logBuffer() (zerolog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return zerolog.New(&syncWriter{w: &buf}).Level(zerolog.DebugLevel), &buf
}

// syncWriter serialises writes from the workers into one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
)

// syncBuffer is a log sink safe for the reader goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSourceThatDiesBeforeServing: a plugin that exits at once fails the start with its exit
// status, and what it wrote to stderr comes back as the source's warning. (A source that serves
// is started and stopped by every end-to-end sync, in test/e2e and the others.)
func TestSourceThatDiesBeforeServing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin")
	script := "#!/bin/sh\necho 'panic: no config' >&2\nexit 3\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var log, logs syncBuffer
	_, err := startSourceProc(context.Background(), path, nil, zerolog.InfoLevel, &logs, zerolog.New(&log))
	if err == nil || !strings.Contains(err.Error(), "exited before serving") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err = %v, want the plugin's early exit and its status", err)
	}
	if !strings.Contains(log.String(), `"stream":"stderr","message":"panic: no config"`) {
		t.Fatalf("stderr not relayed as a warning; log: %s", log.String())
	}
}

func TestSourcePathMustBeAFile(t *testing.T) {
	_, err := startSourceProc(context.Background(), t.TempDir(), nil, zerolog.InfoLevel, &syncBuffer{}, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "not an executable file") {
		t.Fatalf("err = %v", err)
	}
}

package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestSourceThatDiesBeforeServing: a plugin that exits at once fails the start with its exit
// status, and what it wrote to stderr comes back as the source's warning. (A source that serves
// is started and stopped by every end-to-end sync, in test/e2e and the others.)
func TestSourceThatDiesBeforeServing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin")
	script := "#!/bin/sh\necho 'panic: no config' >&2\nexit 3\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// Each buffer has one writer (the log reader, the stderr relay), and a failed start returns
	// only once both have finished: plain buffers are safe to read here.
	var log, logs bytes.Buffer
	_, err := startSourceProc(context.Background(), path, nil, zerolog.InfoLevel, &logs, zerolog.New(&log))
	if err == nil || !strings.Contains(err.Error(), "exited before serving") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err = %v, want the plugin's early exit and its status", err)
	}
	if !strings.Contains(log.String(), `"stream":"stderr","message":"panic: no config"`) {
		t.Fatalf("stderr not relayed as a warning; log: %s", log.String())
	}
}

func TestSourcePathMustBeAFile(t *testing.T) {
	_, err := startSourceProc(context.Background(), t.TempDir(), nil, zerolog.InfoLevel, &bytes.Buffer{}, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "not an executable file") {
		t.Fatalf("err = %v", err)
	}
}

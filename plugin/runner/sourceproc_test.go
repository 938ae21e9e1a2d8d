package runner

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestSourceHelperDoesNotHoldTheRunner: a source that leaves a helper process behind holding its
// output open is killed with its whole process group, so the runner does not wait on the helper.
func TestSourceHelperDoesNotHoldTheRunner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin")
	if err := os.WriteFile(path, []byte("#!/bin/sh\nsleep 600 &\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := startSourceProc(context.Background(), path, nil, zerolog.InfoLevel, io.Discard, zerolog.Nop())
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "exited before serving") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(time.Minute): // a bound on a hang, not a measure of speed
		t.Fatal("the start is still waiting for the helper's output to close")
	}
}

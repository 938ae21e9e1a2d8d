// Package testbin gives end-to-end tests the real binaries: the ones in $BRAZESYNC_BIN when set
// (make test builds them once into bin/), else a fresh `go build` into a temporary folder, once per
// test process.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Binaries built from plugin/cmd.
var Binaries = []string{"brazesync", "braze-destination", "file-source", "snowflake-source", "looker-source"}

var (
	once sync.Once
	dir  string
	err  error
)

// Dir returns the folder holding every binary, building them if needed.
func Dir(tb testing.TB) string {
	tb.Helper()
	once.Do(func() { dir, err = locate() })
	if err != nil {
		tb.Fatalf("building binaries: %v", err)
	}
	return dir
}

// Path returns the path of one binary.
func Path(tb testing.TB, name string) string { return filepath.Join(Dir(tb), name) }

// Root is the repository's root folder (for sample data and docs).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func locate() (string, error) {
	if d := os.Getenv("BRAZESYNC_BIN"); d != "" {
		for _, b := range Binaries {
			if _, err := os.Stat(filepath.Join(d, b)); err != nil {
				return "", fmt.Errorf("$BRAZESYNC_BIN=%s: %w (run make build)", d, err)
			}
		}
		return d, nil
	}
	d, err := os.MkdirTemp("", "brazesync-bin-")
	if err != nil {
		return "", err
	}
	args := []string{"build", "-o", d + string(os.PathSeparator)}
	for _, b := range Binaries {
		args = append(args, "./plugin/cmd/"+b)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = Root()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return d, nil
}

// TestHooksTag builds the failure-mode hooks (BRAZESYNC_TEST_PANIC_AFTER_ROWS, ..._HANG_...) into
// the plugins; release binaries never have them.
const TestHooksTag = "brazesync_testhooks"

var (
	hookedMu  sync.Mutex
	hookedDir string
	hooked    = map[string]error{} // binaries built with TestHooksTag so far, with their build error
)

// Hooked returns the path of plugin binary name (e.g. "braze-destination", "file-source") built
// with TestHooksTag, once per test process.
func Hooked(tb testing.TB, name string) string {
	tb.Helper()
	hookedMu.Lock()
	defer hookedMu.Unlock()
	err, built := hooked[name]
	if !built {
		err = buildHooked(name)
		hooked[name] = err
	}
	if err != nil {
		tb.Fatalf("building %s with -tags %s: %v", name, TestHooksTag, err)
	}
	return filepath.Join(hookedDir, name)
}

// HookedDestination is Hooked(tb, "braze-destination").
func HookedDestination(tb testing.TB) string { return Hooked(tb, "braze-destination") }

func buildHooked(name string) error {
	if hookedDir == "" {
		d, err := os.MkdirTemp("", "brazesync-hooked-")
		if err != nil {
			return err
		}
		hookedDir = d
	}
	cmd := exec.Command("go", "build", "-tags", TestHooksTag, "-o", hookedDir+string(os.PathSeparator), "./plugin/cmd/"+name)
	cmd.Dir = Root()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

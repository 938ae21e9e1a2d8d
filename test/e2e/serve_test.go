package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brazesync/brazesync/test/testbin"
)

// TestPluginBinariesServeCloudQueryCommands: every plugin binary answers plugin-sdk's own commands,
// --version and doc, as the CloudQuery CLI and its packaging expect.
func TestPluginBinariesServeCloudQueryCommands(t *testing.T) {
	plugins := map[string]string{"braze-destination": "braze", "file-source": "file", "snowflake-source": "snowflake", "looker-source": "looker"}
	for bin, name := range plugins {
		t.Run(bin, func(t *testing.T) {
			out, err := exec.Command(testbin.Path(t, bin), "--version").CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), name+" version ") {
				t.Errorf("--version: %q, %v", out, err)
			}
			dir := t.TempDir()
			if out, err := exec.Command(testbin.Path(t, bin), "doc", dir).CombinedOutput(); err != nil {
				t.Fatalf("doc: %v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
				t.Errorf("doc wrote no README.md: %v", err)
			}
			// Run by hand without the go-plugin handshake and without a command, a plugin prints usage.
			out, _ = exec.Command(testbin.Path(t, bin), "--help").CombinedOutput()
			if !strings.Contains(string(out), "serve") {
				t.Errorf("--help does not list serve:\n%s", out)
			}
		})
	}
}

package brazeemu

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestDocExamples runs every ```sh block of docs/emulator-braze.md with bash and curl
// against a standalone emulator started through Main, so the documented commands keep
// working.
func TestDocExamples(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "emulator-braze.md"))
	if err != nil {
		t.Fatalf("reading doc: %v", err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 5 {
		t.Fatalf("found %d sh blocks", len(blocks))
	}
	base := startMain(t, "--api-key", "emulator-key")
	for i, b := range blocks {
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", string(b[1]))
		cmd.Env = append(os.Environ(), "EMU="+base, "KEY=emulator-key")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("block %d failed: %v\n%s\n--- script ---\n%s", i, err, out, b[1])
		}
	}
}

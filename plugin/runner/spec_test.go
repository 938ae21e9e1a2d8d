package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const validSpec = `
kind: source
spec:
  name: users
  path: bin/file-source
  registry: local
  tables: ["*"]
  skip_tables: ["tmp_*"]
  destinations: [braze, braze_eu]
  spec:
    files: [{path: "${SAMPLE_DIR}/users.csv"}]
---
kind: destination
spec:
  name: braze
  path: bin/braze-destination
  registry: local
  spec:
    api_key: "${file:key.txt}"
---
kind: destination
spec:
  name: braze_eu
  path: bin/braze-destination
  write_mode: append
  spec: {api_key: x}
`

func writeSpec(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadSpecFilesExpandsAndFansOut: ${ENV} and ${file:path} (relative to the spec file) are
// expanded, several documents are read, and defaults follow the CloudQuery CLI.
func TestLoadSpecFilesExpandsAndFansOut(t *testing.T) {
	t.Setenv("SAMPLE_DIR", "/data")
	p := writeSpec(t, "sync.yml", validSpec)
	if err := os.WriteFile(filepath.Join(filepath.Dir(p), "key.txt"), []byte("secret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSpecFiles(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Sources) != 1 || len(s.Destinations) != 2 {
		t.Fatalf("got %d sources, %d destinations", len(s.Sources), len(s.Destinations))
	}
	files := s.Sources[0].Spec["files"].([]any)
	if got := files[0].(map[string]any)["path"]; got != "/data/users.csv" {
		t.Errorf("${SAMPLE_DIR} expanded to %v", got)
	}
	if got := s.Destinations[0].Spec["api_key"]; got != "secret-from-file" {
		t.Errorf("${file:key.txt} expanded to %q", got)
	}
	if s.Destinations[0].WriteMode != WriteModeOverwriteDeleteStale || s.Destinations[1].WriteMode != WriteModeAppend {
		t.Errorf("write modes %q, %q", s.Destinations[0].WriteMode, s.Destinations[1].WriteMode)
	}
	if got := s.Sources[0].SkipTables; len(got) != 1 || got[0] != "tmp_*" {
		t.Errorf("skip_tables = %v", got)
	}
}

// TestLoadSpecFilesAcrossFiles: sources and destinations may sit in separate files, as with the CLI.
func TestLoadSpecFilesAcrossFiles(t *testing.T) {
	parts := strings.SplitN(validSpec, "---", 2)
	t.Setenv("SAMPLE_DIR", "/d")
	a := writeSpec(t, "a.yml", parts[0])
	b := writeSpec(t, "b.yml", strings.ReplaceAll(parts[1], `"${file:key.txt}"`, "k"))
	if _, err := LoadSpecFiles(a, b); err != nil {
		t.Fatal(err)
	}
}

// TestLoadSpecFilesRefuses: everything brazesync does not support is refused by name, before anything runs.
func TestLoadSpecFilesRefuses(t *testing.T) {
	tests := []struct{ name, edit, want string }{
		{"unset variable", `s|${SAMPLE_DIR}|${NOT_SET_ANYWHERE_42}`, "NOT_SET_ANYWHERE_42"},
		{"missing file", `s|${file:key.txt}|${file:nope.txt}`, "nope.txt"},
		{"unknown source field", `s|  registry: local\n  tables|  registry: local\n  tabels: [x]\n  tables`, "tabels"},
		{"unsupported registry", `s|path: bin/file-source\n  registry: local|path: bin/file-source\n  registry: cloudquery`, `registry: "cloudquery"`},
		{"grpc destination", `s|name: braze\n  path: bin/braze-destination\n  registry: local|name: braze\n  path: x:1\n  registry: grpc`, "only supported for sources"},
		{"unknown destination", `s|destinations: [braze, braze_eu]|destinations: [braze, nowhere]`, `"nowhere"`},
		{"bad write mode", `s|write_mode: append|write_mode: upsert`, "write_mode"},
		{"sync group", `s|write_mode: append|sync_group_id: x`, "sync_group_id"},
		{"no tables", `s|  tables: ["*"]|  tables: []`, "tables: required"},
		{"bad kind", `s|kind: source|kind: transformer`, `kind "transformer"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SAMPLE_DIR", "/d")
			parts := strings.SplitN(tc.edit, "|", 3)
			body := strings.Replace(validSpec, strings.ReplaceAll(parts[1], `\n`, "\n"), strings.ReplaceAll(parts[2], `\n`, "\n"), 1)
			if body == validSpec {
				t.Fatalf("edit %q changed nothing", tc.edit)
			}
			p := writeSpec(t, "sync.yml", body)
			os.WriteFile(filepath.Join(filepath.Dir(p), "key.txt"), []byte("k"), 0o600)
			_, err := LoadSpecFiles(p)
			if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrConfig naming %q", err, tc.want)
			}
			if ExitCode(err) != ExitConfig {
				t.Errorf("exit code %d, want %d", ExitCode(err), ExitConfig)
			}
		})
	}
}

func TestETA(t *testing.T) {
	tests := []struct {
		total, done int64
		rate        float64
		want        string
	}{
		{0, 10, 5, ""},
		{100, 100, 5, ""},
		{100, 50, 0, ""},
		{1000, 250, 50, " · ETA 15s (25% of 1000)"},
	}
	for _, tc := range tests {
		if got := eta(tc.total, tc.done, tc.rate); got != tc.want {
			t.Errorf("eta(%d, %d, %v) = %q, want %q", tc.total, tc.done, tc.rate, got, tc.want)
		}
	}
}

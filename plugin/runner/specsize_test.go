package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// wideSpecFile writes a spec whose destination maps n columns in its attributes map.
func wideSpecFile(tb testing.TB, n int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("kind: source\nspec:\n  name: f\n  path: bin/file-source\n  tables: [\"*\"]\n  destinations: [braze]\n  spec:\n    files: [{path: a.csv}]\n" +
		"---\nkind: destination\nspec:\n  name: braze\n  path: bin/braze-destination\n  spec:\n    api_key: k\n    attributes:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "      COL_%d: attr_%d\n", i, i)
	}
	path := filepath.Join(tb.TempDir(), "wide.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestWideSpecLoads: a spec's attributes map of 160,000 entries loads whole, every entry kept.
func TestWideSpecLoads(t *testing.T) {
	const n = 160_000
	path := wideSpecFile(t, n)
	start := time.Now()
	spec, err := LoadSpecFiles(path)
	t.Logf("%d attributes loaded in %v", n, time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := spec.Destinations[0].Spec["attributes"].(map[string]any)
	if len(attrs) != n || attrs["COL_123"] != "attr_123" {
		t.Fatalf("%d attributes loaded, want %d", len(attrs), n)
	}
}

// TestDuplicateSpecKeysRefused: a key given twice in one mapping is an error naming it, as YAML
// requires, however deep it sits.
func TestDuplicateSpecKeysRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dup.yml")
	body := "kind: source\nspec:\n  name: f\n  path: p\n  tables: [\"*\"]\n  destinations: [d]\n  spec:\n    files: [{path: a.csv}]\n" +
		"---\nkind: destination\nspec:\n  name: d\n  path: q\n  spec:\n    attributes:\n      A: a\n      B: b\n      A: c\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSpecFiles(path); err == nil || !strings.Contains(err.Error(), `"A" already defined`) {
		t.Fatalf("error %v, want one naming the duplicate key", err)
	}
}

// BenchmarkLoadWideSpec loads a spec with 40,000 attributes; linear in the spec's size.
func BenchmarkLoadWideSpec(b *testing.B) {
	path := wideSpecFile(b, 40_000)
	for b.Loop() {
		if _, err := LoadSpecFiles(path); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSpecAnchorsAndMerges: anchors, aliases and merge keys read as YAML defines them.
func TestSpecAnchorsAndMerges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "merge.yml")
	body := "kind: source\nspec:\n  name: f\n  path: p\n  tables: [\"*\"]\n  destinations: [d]\n  spec:\n    files: [{path: a.csv}]\n" +
		"---\nkind: destination\nspec:\n  name: d\n  path: q\n  spec:\n    base: &base {nulls: unset, batch_size: 50}\n    <<: *base\n    batch_size: 10\n    tags: [&t x, *t]\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	spec, err := LoadSpecFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	got := spec.Destinations[0].Spec
	if got["nulls"] != "unset" || got["batch_size"] != 10 || fmt.Sprint(got["tags"]) != "[x x]" {
		t.Errorf("spec %v", got)
	}
}

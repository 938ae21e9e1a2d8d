// Package docs runs the documentation: every `sh` block of the pages below is executed with bash
// against the real binaries and a Braze emulator, every spec (`yaml` block with `kind:`) is loaded
// and validated by the same code `brazesync sync` uses, and docs/configuration.md must equal what
// docs/gen generates from the Spec structs. So the docs cannot rot.
//
// Conventions in the Markdown: a block's info string says what it is: `sh` runs (from a folder
// holding bin/ and docs/, with BRAZE_API_KEY and BRAZE_ENDPOINT pointing at an emulator; exported
// variables carry to the page's next block); a first line `# expect exit N` expects that exit code;
// `yaml` whose first line is `# file: NAME` is written to NAME before the page's blocks run;
// `console`, `sql`, `lookml` and `text` are shown, not run.
package docs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/docs/gen"
	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/source/looker"
	"github.com/brazesync/brazesync/source/snowflake"
	"github.com/brazesync/brazesync/test/emutest"
	"github.com/brazesync/brazesync/test/testbin"
)

// pages are the documents this test owns (docs/emulator-braze.md has its own test in plugin/emulator/brazeemu).
var pages = []string{"troubleshooting.md", "operations.md", "cloudquery.md", "scheduling.md",
	"guide-snowflake.md", "guide-looker.md", "quickstart.md", "README.md", "looker.md", "snowflake.md", "mapping.md", "events.md", "state-snowflake.md"}

type block struct {
	lang, body string
	line       int
}

var fence = regexp.MustCompile("^```([a-z]*)\\s*$")

func blocks(t *testing.T, page string) []block {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testbin.Root(), "docs", page))
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	var cur *block
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if m := fence.FindStringSubmatch(l); m != nil {
			if cur == nil {
				cur = &block{lang: m[1], line: n}
			} else {
				out = append(out, *cur)
				cur = nil
			}
			continue
		}
		if cur != nil {
			cur.body += l + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("%s: unclosed code block at line %d", page, cur.line)
	}
	return out
}

func TestConfigurationReferenceIsCurrent(t *testing.T) {
	want, err := gen.ConfigurationMarkdown(testbin.Root())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(testbin.Root(), gen.Output))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale: run `go run ./plugin/cmd/gen-docs`", gen.Output)
	}
	// Every destination field the plugin accepts is documented.
	for _, f := range []string{"api_key", "endpoint", "key_column", "user_key", "attributes", "export_attribute",
		"batch_regime", "max_rejected_ratio", "files[].tags", "private_key_path", "queries[].sql", "tables[].look_id", "query_tag"} {
		if !strings.Contains(want, "| `"+f+"` |") {
			t.Errorf("configuration.md lacks field %s", f)
		}
	}
}

func TestDocsBlocksRun(t *testing.T) {
	bin := testbin.Dir(t)
	const key = "docs-test-key-3e8a"
	emu := emutest.Braze(t, brazeemu.Options{APIKeys: []string{key}})
	for _, page := range pages {
		t.Run(page, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.Symlink(bin, filepath.Join(dir, "bin")))
			must(t, os.Symlink(filepath.Join(testbin.Root(), "docs"), filepath.Join(dir, "docs")))
			env := filepath.Join(dir, ".env.sh")
			must(t, os.WriteFile(env, []byte(fmt.Sprintf("export BRAZE_API_KEY=%q BRAZE_ENDPOINT=%q\n", key, emu.URL())), 0o600))
			bs := blocks(t, page)
			for _, b := range bs {
				if b.lang == "yaml" {
					checkYAML(t, dir, page, b)
				}
			}
			ran := 0
			for _, b := range bs {
				switch b.lang {
				case "sh":
					runSh(t, dir, env, page, b)
					ran++
				case "yaml", "console", "sql", "lookml", "text", "json":
				default:
					t.Errorf("%s:%d: code block with info string %q: use sh, yaml, console, sql, lookml, text or json", page, b.line, b.lang)
				}
			}
			t.Logf("%s: %d blocks, %d run", page, len(bs), ran)
		})
	}
}

var expectExit = regexp.MustCompile(`^# expect exit (\d+)`)

// runSh runs one block with bash -e, after the variables the page's earlier blocks exported.
func runSh(t *testing.T, dir, env, page string, b block) {
	t.Helper()
	want := 0
	if m := expectExit.FindStringSubmatch(b.body); m != nil {
		want, _ = strconv.Atoi(m[1])
	}
	script := fmt.Sprintf("set -e\nsource %q\n%s\nexport -p > %q\n", env, b.body, env)
	if want != 0 {
		// The block's own status is the expected failure; keep the environment anyway.
		script = fmt.Sprintf("source %q\n(set -e\n%s)\ncode=$?\nexport -p > %q\nexit $code\n", env, b.body, env)
	}
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Errorf("%s:%d: exit %d, want %d\n%s\n--- output\n%s", page, b.line, code, want, b.body, out)
	}
	if strings.Contains(string(out), "docs-test-key-3e8a") {
		t.Errorf("%s:%d: the API key appears in the output", page, b.line)
	}
}

var envRef = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)\}`)

// checkYAML writes `# file:` blocks and validates every spec the way the runner and plugins do.
func checkYAML(t *testing.T, dir, page string, b block) {
	t.Helper()
	var docs []any
	dec := yaml.NewDecoder(strings.NewReader(b.body))
	for {
		var doc any
		if err := dec.Decode(&doc); err != nil {
			if err.Error() != "EOF" {
				t.Errorf("%s:%d: not YAML: %v", page, b.line, err)
			}
			break
		}
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		t.Errorf("%s:%d: empty YAML block", page, b.line)
	}
	if first, _, _ := strings.Cut(b.body, "\n"); strings.HasPrefix(first, "# file: ") {
		must(t, os.WriteFile(filepath.Join(dir, strings.TrimPrefix(first, "# file: ")), []byte(b.body), 0o600))
	}
	if !strings.Contains(b.body, "\nkind: source") && !strings.HasPrefix(b.body, "kind:") && !strings.Contains(b.body, "\nkind: destination") {
		return // not a sync spec (e.g. a Kubernetes manifest): parsing is the check
	}
	for _, m := range envRef.FindAllStringSubmatch(b.body, -1) {
		if _, ok := os.LookupEnv(m[1]); !ok {
			t.Setenv(m[1], "placeholder-"+strings.ToLower(m[1]))
		}
	}
	t.Setenv("LOOKER_CLIENT_SECRET", "placeholder")
	p := filepath.Join(t.TempDir(), "spec.yml")
	must(t, os.WriteFile(p, []byte(b.body), 0o600))
	spec, err := runner.LoadSpecFiles(p)
	if err != nil {
		t.Errorf("%s:%d: spec does not load: %v", page, b.line, err)
		return
	}
	for _, d := range spec.Destinations {
		raw, _ := runner.SpecJSON(d.Spec)
		if _, err := destination.ParseSpec(raw); err != nil {
			t.Errorf("%s:%d: destination %s: %v", page, b.line, d.Name, err)
		}
	}
	for _, s := range spec.Sources {
		if err := validateSource(s); err != nil {
			t.Errorf("%s:%d: source %s: %v", page, b.line, s.Name, err)
		}
	}
}

// validateSource checks a source's spec with the plugin's own types (unknown fields refused).
func validateSource(s *runner.SourceSpec) error {
	raw, _ := runner.SpecJSON(s.Spec)
	strict := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		return dec.Decode(v)
	}
	switch filepath.Base(s.Path) {
	case "snowflake-source":
		var sp snowflake.Spec
		if err := strict(&sp); err != nil {
			return err
		}
		sp.SetDefaults()
		return sp.Validate()
	case "looker-source":
		var sp looker.Spec
		if err := strict(&sp); err != nil {
			return err
		}
		return sp.Validate()
	}
	return nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

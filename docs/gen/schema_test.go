package gen_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"gopkg.in/yaml.v3"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/source/file"
	"github.com/brazesync/brazesync/source/looker"
	"github.com/brazesync/brazesync/source/snowflake"
)

// defaulter is a spec struct pointer.
type defaulter interface{ SetDefaults() }

// pluginSpec is one plugin, its registered schema, and a minimal valid spec.
type pluginSpec struct {
	binary  string // the binary a sync spec's path names
	plugin  *plugin.Plugin
	newSpec func() defaulter
	minimal string
	// derived are the fields whose default SetDefaults derives from others: no schema default.
	derived []string
}

func plugins() []pluginSpec {
	return []pluginSpec{
		{binary: "braze-destination", plugin: destination.NewPlugin(), newSpec: func() defaulter { return &destination.Spec{} },
			minimal: `{"api_key": "k", "endpoint": "https://rest.iad-01.braze.com"}`},
		{binary: "file-source", plugin: file.NewPlugin(), newSpec: func() defaulter { return &file.Spec{} },
			minimal: `{"files": [{"path": "users.csv"}]}`},
		{binary: "snowflake-source", plugin: snowflake.NewPlugin(), newSpec: func() defaulter { return &snowflake.Spec{} },
			minimal: `{"account": "xy12345", "user": "SYNC", "password": "p", "warehouse": "WH", "queries": [{"name": "q", "sql": "SELECT 1"}]}`,
			derived: []string{"authenticator"}},
		{binary: "looker-source", plugin: looker.NewPlugin(), newSpec: func() defaulter { return &looker.Spec{} },
			minimal: `{"base_url": "https://acme.looker.com", "client_id": "id", "client_secret": "s", "tables": [{"name": "t", "look_id": 1}]}`},
	}
}

// registeredSchema is the schema a plugin gives plugin-sdk, as plain JSON.
func registeredSchema(t *testing.T, p pluginSpec) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(p.plugin.JSONSchema()), &m); err != nil {
		t.Fatalf("%s: registered schema is not JSON: %v", p.binary, err)
	}
	return m
}

// defaulted decodes spec JSON strictly into a fresh spec and applies SetDefaults, as the plugins do.
func defaulted(t *testing.T, p pluginSpec, specJSON string) map[string]any {
	t.Helper()
	s := p.newSpec()
	dec := json.NewDecoder(strings.NewReader(specJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		t.Fatalf("%s: decoding %s: %v", p.binary, specJSON, err)
	}
	s.SetDefaults()
	return asMap(t, s)
}

func asMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSchemaDefaultsAreWhatSetDefaultsDoes checks each plugin's registered schema against its
// SetDefaults, both ways: writing a field's schema default into a spec changes nothing SetDefaults
// would not have done, and every field SetDefaults fills has that value as its schema default.
// Nested objects (e.g. the destination's state block) are walked field by field.
func TestSchemaDefaultsAreWhatSetDefaultsDoes(t *testing.T) {
	for _, p := range plugins() {
		t.Run(p.binary, func(t *testing.T) {
			sch := registeredSchema(t, p)
			implicit := defaulted(t, p, p.minimal)
			stated := schemaDefaults(sch, "")
			if len(stated) == 0 {
				t.Errorf("the schema states no default")
			}
			for path, def := range stated {
				var explicit map[string]any
				if err := json.Unmarshal([]byte(p.minimal), &explicit); err != nil {
					t.Fatal(err)
				}
				setPath(explicit, path, def)
				b, _ := json.Marshal(explicit)
				if got := defaulted(t, p, string(b)); !jsonEqual(got, implicit) {
					t.Errorf("%s: setting the schema default %v gives %v, leaving it unset gives %v", path, def, got, implicit)
				}
			}
			for path, v := range filled(asMap(t, decodedOnly(t, p)), implicit, "") {
				def, ok := stated[path]
				switch {
				case slices.Contains(p.derived, path):
					if ok {
						t.Errorf("%s: its default depends on other fields, yet the schema states %v", path, def)
					}
				case !ok:
					t.Errorf("%s: SetDefaults fills %v, the schema states no default", path, v)
				case !jsonEqual(def, v):
					t.Errorf("%s: SetDefaults fills %v, the schema states %v", path, v, def)
				}
			}
		})
	}
}

// schemaDefaults maps the dotted path of every property with a "default" to that default.
func schemaDefaults(node map[string]any, prefix string) map[string]any {
	out := map[string]any{}
	props, _ := node["properties"].(map[string]any)
	for name, raw := range props {
		prop, _ := raw.(map[string]any)
		if def, ok := prop["default"]; ok {
			out[prefix+name] = def
		}
		for k, v := range schemaDefaults(prop, prefix+name+".") {
			out[k] = v
		}
	}
	return out
}

// filled maps the dotted path of every value SetDefaults changed (before → after) to its new value,
// walking into objects.
func filled(before, after map[string]any, prefix string) map[string]any {
	out := map[string]any{}
	for name, v := range after {
		if jsonEqual(before[name], v) {
			continue
		}
		sub, isObj := v.(map[string]any)
		if !isObj {
			out[prefix+name] = v
			continue
		}
		was, _ := before[name].(map[string]any)
		for k, fv := range filled(was, sub, prefix+name+".") {
			out[k] = fv
		}
	}
	return out
}

// setPath sets a dotted path in a JSON object, creating the objects on the way.
func setPath(m map[string]any, path string, v any) {
	head, rest, nested := strings.Cut(path, ".")
	if !nested {
		m[head] = v
		return
	}
	sub, ok := m[head].(map[string]any)
	if !ok {
		sub = map[string]any{}
		m[head] = sub
	}
	setPath(sub, rest, v)
}

// decodedOnly is the minimal spec decoded, before SetDefaults.
func decodedOnly(t *testing.T, p pluginSpec) defaulter {
	t.Helper()
	s := p.newSpec()
	if err := json.Unmarshal([]byte(p.minimal), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSchemasValidateTheDocsExamples validates every plugin spec block of the example files and of
// the Markdown pages in docs/ with the registered schemas, compiled as plugin-sdk compiles them.
func TestSchemasValidateTheDocsExamples(t *testing.T) {
	validators := map[string]pluginSpec{}
	for _, p := range plugins() {
		validators[p.binary] = p
	}
	checked := map[string]int{}
	for _, ex := range docsExamples(t) {
		for _, blk := range pluginBlocks(t, ex) {
			p, ok := validators[blk.binary]
			if !ok {
				continue // a plugin brazesync does not build (a third-party CloudQuery source)
			}
			checked[blk.binary]++
			if err := validate(t, p, blk.spec); err != nil {
				t.Errorf("%s: %s spec does not validate: %v", ex.where, blk.binary, err)
			}
		}
	}
	for _, p := range plugins() {
		if checked[p.binary] == 0 {
			t.Errorf("no example in docs/ uses %s", p.binary)
		}
	}
	t.Logf("validated spec blocks per plugin: %v", checked)
}

// TestSchemasRefuseUnknownFieldsAndWrongTypes: the minimal spec validates; with an unknown field,
// or with a string where the schema wants a number or a boolean, it does not, and the error names
// the field.
func TestSchemasRefuseUnknownFieldsAndWrongTypes(t *testing.T) {
	for _, p := range plugins() {
		t.Run(p.binary, func(t *testing.T) {
			var spec map[string]any
			if err := json.Unmarshal([]byte(p.minimal), &spec); err != nil {
				t.Fatal(err)
			}
			if err := validate(t, p, spec); err != nil {
				t.Fatalf("the minimal spec does not validate: %v", err)
			}
			spec["no_such_field"] = 1
			if err := validate(t, p, spec); err == nil || !strings.Contains(err.Error(), "no_such_field") {
				t.Errorf("an unknown field: err %v, want one naming no_such_field", err)
			}
			delete(spec, "no_such_field")
			wrong := 0
			for name, raw := range registeredSchema(t, p)["properties"].(map[string]any) {
				if typ := raw.(map[string]any)["type"]; typ != "integer" && typ != "boolean" {
					continue
				}
				bad := map[string]any{name: "not-a-number"}
				for k, v := range spec {
					bad[k] = v
				}
				if err := validate(t, p, bad); err == nil || !strings.Contains(err.Error(), name) {
					t.Errorf("%s as a string: err %v, want one naming %s", name, err, name)
				}
				wrong++
			}
			if wrong == 0 {
				t.Errorf("the schema has no integer or boolean property to test")
			}
		})
	}
}

func validate(t *testing.T, p pluginSpec, spec any) error {
	t.Helper()
	v, err := plugin.JSONSchemaValidator(p.plugin.JSONSchema())
	if err != nil {
		t.Fatalf("%s: the registered schema does not compile: %v", p.binary, err)
	}
	// Validate the spec as the plugin receives it: JSON, decoded into plain values.
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return v.Validate(doc)
}

// example is one sync spec file or Markdown block from docs/.
type example struct{ where, body string }

var yamlFence = regexp.MustCompile("(?ms)^```yaml[ \t]*\n(.*?)^```")

func docsExamples(t *testing.T) []example {
	t.Helper()
	docs := filepath.Join(repoRoot(), "docs")
	var out []example
	for _, pattern := range []string{"examples/*.yml", "recipes/*.yml", "*.md"} {
		files, err := filepath.Glob(filepath.Join(docs, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(docs, f)
			if strings.HasSuffix(f, ".yml") {
				out = append(out, example{where: rel, body: string(raw)})
				continue
			}
			for _, m := range yamlFence.FindAllStringSubmatch(string(raw), -1) {
				if strings.Contains(m[1], "kind: ") {
					out = append(out, example{where: rel + " (a yaml block)", body: m[1]})
				}
			}
		}
	}
	return out
}

// pluginBlock is the `spec:` of one kind: source or kind: destination document.
type pluginBlock struct {
	binary string
	spec   map[string]any
}

var placeholder = regexp.MustCompile(`\$\{[^}]+\}`)

// pluginBlocks reads the documents of a sync spec. ${ENV} and ${file:…} become placeholder strings:
// the schema checks the shape of a spec, not the values of secrets.
func pluginBlocks(t *testing.T, ex example) []pluginBlock {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(placeholder.ReplaceAllString(ex.body, "placeholder")))
	var out []pluginBlock
	for {
		var doc struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Path string         `yaml:"path"`
				Spec map[string]any `yaml:"spec"`
			} `yaml:"spec"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Errorf("%s: not YAML: %v", ex.where, err)
			return out
		}
		if doc.Spec.Spec == nil {
			doc.Spec.Spec = map[string]any{} // what the runner sends for a missing spec:
		}
		if doc.Kind == "source" || doc.Kind == "destination" {
			out = append(out, pluginBlock{binary: filepath.Base(doc.Spec.Path), spec: doc.Spec.Spec})
		}
	}
}

func repoRoot() string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(f), "..", "..")
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

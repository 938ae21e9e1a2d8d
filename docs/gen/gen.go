// Package gen writes docs/configuration.md, the reference of every spec field of every plugin, from
// the Spec structs themselves: their json/yaml tags, jsonschema tags and doc comments (read from
// the Go source with go/parser), plus the Snowflake plugin's own JSON schema for required fields.
// test/docs fails when the checked-in file differs from what this package generates, so the
// reference cannot fall behind the code. Regenerate with `go run ./plugin/cmd/gen-docs`.
package gen

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/brazesync/brazesync/source/snowflake"
)

// Output is the generated file, relative to the repository root.
const Output = "docs/configuration.md"

// section is one spec block: a Go struct (and the structs it nests) in a package folder.
type section struct {
	title, anchor, intro string
	dir, typ             string
	tag                  string          // "json" or "yaml"
	required             map[string]bool // required fields not marked in tags
	extra                map[string]string
}

// runnerDocs describes the runner's document fields, which carry no doc comments of their own.
// A field missing here fails generation, so a new field cannot go undocumented.
var runnerDocs = map[string]string{
	"name":                  "Name of the plugin instance; sources list destinations by it, and it names the report's entries.",
	"path":                  "The plugin binary (registry local, e.g. bin/file-source), or host:port of a running `serve` (registry grpc, sources only).",
	"registry":              "`local` (default) or, for sources, `grpc`. Downloading registries (cloudquery, github, docker) are refused.",
	"version":               "Accepted for `cloudquery sync` compatibility; brazesync runs the binary at path.",
	"tables":                "Tables to sync, with CloudQuery's glob syntax, e.g. `[\"*\"]`.",
	"skip_tables":           "Tables not to sync (globs).",
	"skip_dependent_tables": "Skip child tables of skipped tables (CloudQuery semantics).",
	"destinations":          "Names of the `kind: destination` documents that receive this source's rows.",
	"deterministic_cq_id":   "Passed to the source (CloudQuery semantics); brazesync ignores _cq_* columns.",
	"spec":                  "The plugin's own spec block: see the plugin's section below.",
	"write_mode":            "`overwrite-delete-stale` (default), `overwrite` or `append`. Braze has nothing to delete, so all three send the same updates.",
	"migrate_mode":          "`safe` or `forced`; accepted for compatibility (Braze has no tables to migrate).",
	"pk_mode":               "`default` or `cq-id-only`; accepted for compatibility.",
	"sync_group_id":         "Refused: Braze has no sync groups.",
}

var lookerRequired = map[string]bool{"base_url": true, "client_id": true, "tables": true, "name": true, "model": true, "view": true, "fields": true}

func sections() []section {
	return []section{
		{title: "Sync spec documents (the runner)", anchor: "sync-spec", dir: "plugin/runner", typ: "SourceSpec", tag: "yaml",
			intro: "Every spec file holds `kind: source` and `kind: destination` documents, as `cloudquery sync` reads them. " +
				"`${ENV}` and `${file:path}` are expanded; an unset variable is an error. Unknown fields are refused.\n\n`kind: source`:",
			required: map[string]bool{"name": true, "path": true, "tables": true, "destinations": true}},
		{title: "", anchor: "", dir: "plugin/runner", typ: "DestinationSpec", tag: "yaml", intro: "`kind: destination`:",
			required: map[string]bool{"name": true, "path": true}},
		{title: "Braze destination (`braze-destination`)", anchor: "braze-destination", dir: "destination", typ: "Spec", tag: "json",
			intro: "The `spec:` of a `kind: destination` document whose path is `bin/braze-destination`. Unknown fields are refused."},
		{title: "File source (`file-source`)", anchor: "file-source", dir: "source/file", typ: "Spec", tag: "json",
			intro: "CSV, Parquet and NDJSON files, one table each."},
		{title: "Snowflake source (`snowflake-source`)", anchor: "snowflake-source", dir: "source/snowflake", typ: "Spec", tag: "json",
			intro: "One table per query, typed describe-only. Guide: [snowflake.md](snowflake.md).", required: snowflakeRequired()},
		{title: "Looker source (`looker-source`)", anchor: "looker-source", dir: "source/looker", typ: "Spec", tag: "json",
			intro: "One table per Look or inline query; LookML tags become column tags. Guide: [looker.md](looker.md). " +
				"One of `client_secret` and `client_secret_env` is required; each table needs `look_id` or `query`.",
			required: lookerRequired},
	}
}

// snowflakeRequired reads the required fields from the plugin's JSON schema.
func snowflakeRequired() map[string]bool {
	var s struct {
		Required   []string `json:"required"`
		Properties struct {
			Queries struct {
				Items struct {
					Required []string `json:"required"`
				} `json:"items"`
			} `json:"queries"`
		} `json:"properties"`
	}
	out := map[string]bool{}
	if json.Unmarshal([]byte(snowflake.JSONSchema), &s) == nil {
		for _, r := range append(s.Required, s.Properties.Queries.Items.Required...) {
			out[r] = true
		}
	}
	return out
}

// ConfigurationMarkdown renders docs/configuration.md from the source tree at root.
func ConfigurationMarkdown(root string) (string, error) {
	var b strings.Builder
	b.WriteString("# Configuration reference\n\n<!-- Generated by `go run ./plugin/cmd/gen-docs` from the Spec structs; " +
		"test/docs fails when it is stale. Do not edit by hand. -->\n\n" +
		"Every field of every spec brazesync reads. Examples: [quickstart.md](quickstart.md), " +
		"[examples/quickstart.yml](examples/quickstart.yml), [recipes/](recipes/). `brazesync check SPEC.yml` validates a spec " +
		"against the live systems ([troubleshooting.md](troubleshooting.md)).\n")
	pkgs := map[string]*pkg{}
	for _, s := range sections() {
		p := pkgs[s.dir]
		if p == nil {
			var err error
			if p, err = loadPackage(root, s.dir); err != nil {
				return "", err
			}
			pkgs[s.dir] = p
		}
		if s.title != "" {
			fmt.Fprintf(&b, "\n## %s\n\n<a id=\"%s\"></a>\n\n", s.title, s.anchor)
		} else {
			b.WriteString("\n")
		}
		b.WriteString(s.intro + "\n")
		if err := writeStruct(&b, p, s, s.typ, "", map[string]bool{}); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// pkg holds the struct declarations of one package folder.
type pkg struct {
	root    string
	structs map[string]*ast.StructType
}

func loadPackage(root, rel string) (*pkg, error) {
	dir := filepath.Join(root, rel)
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", dir, err)
	}
	p := &pkg{root: root, structs: map[string]*ast.StructType{}}
	for _, ap := range pkgs {
		for _, f := range ap.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				if ts, ok := n.(*ast.TypeSpec); ok {
					if st, ok := ts.Type.(*ast.StructType); ok {
						p.structs[ts.Name.Name] = st
					}
				}
				return true
			})
		}
	}
	return p, nil
}

// row is one documented field.
type row struct{ name, typ, def, doc string }

func writeStruct(b *strings.Builder, p *pkg, s section, typ, prefix string, seen map[string]bool) error {
	st := p.structs[typ]
	if st == nil {
		return fmt.Errorf("%s: struct %s not found", s.dir, typ)
	}
	rows, nested, err := structRows(p, s, st, prefix)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", s.dir, typ, err)
	}
	if prefix != "" {
		fmt.Fprintf(b, "\nEach entry of `%s`:\n", strings.TrimSuffix(prefix, "[]."))
	}
	b.WriteString("\n| field | type | required / default | description |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", r.name, r.typ, r.def, r.doc)
	}
	for _, n := range nested {
		if seen[n[1]] {
			continue
		}
		seen[n[1]] = true
		if err := writeStruct(b, p, s, n[1], n[0], seen); err != nil {
			return err
		}
	}
	return nil
}

// structRows lists a struct's fields (embedded structs inlined) and the nested structs to document.
func structRows(p *pkg, s section, st *ast.StructType, prefix string) ([]row, [][2]string, error) {
	var rows []row
	var nested [][2]string
	prevDoc := ""
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 { // embedded, e.g. schema.Config: documented inline
			emb, err := embedded(f)
			if err != nil {
				return nil, nil, err
			}
			ep, err := loadPackage(p.root, emb.dir)
			if err != nil || ep.structs[emb.typ] == nil {
				return nil, nil, fmt.Errorf("embedded %s.%s not found: %v", emb.dir, emb.typ, err)
			}
			r, n, err := structRows(ep, s, ep.structs[emb.typ], prefix)
			if err != nil {
				return nil, nil, err
			}
			rows, nested = append(rows, r...), append(nested, n...)
			continue
		}
		if f.Tag == nil || !f.Names[0].IsExported() {
			continue
		}
		tags := reflect.StructTag(strings.Trim(f.Tag.Value, "`"))
		name := strings.Split(tags.Get(s.tag), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		doc := docText(f, prevDoc, f.Names[0].Name)
		if f.Doc != nil {
			prevDoc = doc // a grouped comment covers the fields that follow it
		}
		if s.tag == "yaml" {
			doc = runnerDocs[name]
		}
		if doc == "" {
			return nil, nil, fmt.Errorf("field %s has no doc comment", name)
		}
		typ, elem := typeName(f.Type)
		if elem != "" && p.structs[elem] != nil {
			nested = append(nested, [2]string{prefix + name + arraySuffix(f.Type) + ".", elem})
		}
		rows = append(rows, row{name: prefix + name, typ: typ, def: requirement(tags, s, name), doc: doc})
	}
	return rows, nested, nil
}

func arraySuffix(e ast.Expr) string {
	if _, ok := e.(*ast.ArrayType); ok {
		return "[]"
	}
	return ""
}

type embeddedRef struct{ dir, typ string }

// embedded resolves the one embedded struct brazesync uses: schema.Config in the destination.
func embedded(f *ast.Field) (embeddedRef, error) {
	if sel, ok := f.Type.(*ast.SelectorExpr); ok {
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == "schema" {
			return embeddedRef{dir: "schema", typ: sel.Sel.Name}, nil
		}
	}
	return embeddedRef{}, fmt.Errorf("unsupported embedded field %v", f.Type)
}

// docText is the field's doc comment as one line; a field sharing a grouped comment ("Warehouse,
// Role, Database, Schema set …") borrows the previous field's when it is named there.
func docText(f *ast.Field, prev, goName string) string {
	d := ""
	if f.Doc != nil {
		d = f.Doc.Text()
	} else if f.Comment != nil {
		d = f.Comment.Text()
	}
	d = strings.Join(strings.Fields(d), " ")
	if d == "" && goName != "" && strings.Contains(prev, goName) {
		d = prev
	}
	if d == "" && goName != "" {
		d = queryFieldDocs[goName]
	}
	return strings.ReplaceAll(d, "|", "\\|")
}

// queryFieldDocs describes the fields of the Looker inline query, which mirror Looker's own query
// object (looker.md §4.2) and carry no comments in the source.
var queryFieldDocs = map[string]string{
	"Model": "LookML model.", "View": "Explore (view) name.", "Fields": "Fields to select, e.g. users.external_id.",
	"Pivots":  "Pivot fields (pivoted measures cannot be sent as attributes; see docs/looker.md#pivots).",
	"Filters": "Field → Looker filter expression.", "Sorts": "Sort fields.", "Limit": "Row limit; -1 = all results.",
	"QueryTimezone": "Time zone for the query's timestamps.",
}

func typeName(e ast.Expr) (string, string) {
	switch t := e.(type) {
	case *ast.Ident:
		switch t.Name {
		case "string", "bool", "int", "int64", "float64":
			return map[string]string{"string": "string", "bool": "boolean", "int": "integer", "int64": "integer", "float64": "number"}[t.Name], ""
		case "Limit":
			return "integer or string", ""
		}
		return "object", t.Name
	case *ast.StarExpr:
		return typeName(t.X)
	case *ast.ArrayType:
		inner, elem := typeName(t.Elt)
		return "list of " + inner, elem
	case *ast.MapType:
		inner, _ := typeName(t.Value)
		return "map of string → " + inner, ""
	}
	return "value", ""
}

// requirement renders the jsonschema tag: required, default, enum and bounds.
func requirement(tags reflect.StructTag, s section, name string) string {
	var parts, enum []string
	required := s.required[name]
	for _, kv := range strings.Split(tags.Get("jsonschema"), ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "required":
			required = true
		case "default":
			parts = append(parts, "default `"+v+"`")
		case "enum":
			enum = append(enum, "`"+v+"`")
		case "minimum":
			parts = append(parts, "min "+v)
		case "maximum":
			parts = append(parts, "max "+v)
		}
	}
	if len(enum) > 0 {
		parts = append(parts, "one of "+strings.Join(enum, ", "))
	}
	if required {
		parts = append([]string{"**required**"}, parts...)
	}
	if len(parts) == 0 {
		return "optional"
	}
	return strings.Join(parts, "; ")
}

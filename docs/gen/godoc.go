package gen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
)

// pkg holds the struct declarations of one package folder.
type pkg struct {
	root, dir string
	structs   map[string]*ast.StructType
}

// goField is one spec field as the Go source declares it.
type goField struct {
	doc  string // the doc comment, on one line
	elem string // the struct the field holds, itself or in a list, map or pointer; "" for none
	pkg  *pkg   // the package that declares elem
}

// packageDirs resolves structs declared in other packages: the destination embeds schema.Config
// and maps tables to schema.EventConfig; its state block embeds snowflake.Connection.
var packageDirs = map[string]string{"schema": "schema", "snowflake": "source/snowflake"}

func cachedPackage(pkgs map[string]*pkg, root, dir string) (*pkg, error) {
	if p := pkgs[dir]; p != nil {
		return p, nil
	}
	p, err := loadPackage(root, dir)
	if err != nil {
		return nil, err
	}
	pkgs[dir] = p
	return p, nil
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
	p := &pkg{root: root, dir: rel, structs: map[string]*ast.StructType{}}
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

// fields maps the tag names of struct typ's fields, embedded structs inlined, to their declarations.
func (p *pkg) fields(pkgs map[string]*pkg, typ, tag string) (map[string]goField, error) {
	st := p.structs[typ]
	if st == nil {
		return nil, fmt.Errorf("struct %s not found in %s", typ, p.dir)
	}
	out := map[string]goField{}
	prevDoc := ""
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			ep, etyp, err := p.embedded(pkgs, f)
			if err != nil {
				return nil, err
			}
			sub, err := ep.fields(pkgs, etyp, tag)
			if err != nil {
				return nil, fmt.Errorf("embedded %s.%s: %w", ep.dir, etyp, err)
			}
			for k, v := range sub {
				out[k] = v
			}
			continue
		}
		if f.Tag == nil || !f.Names[0].IsExported() {
			continue
		}
		name := strings.Split(reflect.StructTag(strings.Trim(f.Tag.Value, "`")).Get(tag), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		doc := docText(f, prevDoc, f.Names[0].Name)
		if f.Doc != nil {
			prevDoc = doc // a grouped comment covers the fields that follow it
		}
		ep, elem, err := p.elemStruct(pkgs, f.Type)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		out[name] = goField{doc: doc, elem: elem, pkg: ep}
	}
	return out, nil
}

// embedded resolves an embedded struct: one of this package, or of a package in packageDirs.
func (p *pkg) embedded(pkgs map[string]*pkg, f *ast.Field) (*pkg, string, error) {
	ep, name, err := p.elemStruct(pkgs, f.Type)
	if err == nil && name == "" {
		err = fmt.Errorf("unsupported embedded field %v", f.Type)
	}
	return ep, name, err
}

// elemStruct finds the struct a field's type holds, itself or in a list, map or pointer: its
// package and name, or "" when it holds none.
func (p *pkg) elemStruct(pkgs map[string]*pkg, e ast.Expr) (*pkg, string, error) {
	switch t := e.(type) {
	case *ast.Ident:
		if p.structs[t.Name] != nil {
			return p, t.Name, nil
		}
	case *ast.SelectorExpr:
		id, ok := t.X.(*ast.Ident)
		if !ok || packageDirs[id.Name] == "" {
			return p, "", nil // e.g. a time.Duration: no struct to document
		}
		ep, err := cachedPackage(pkgs, p.root, packageDirs[id.Name])
		if err != nil || ep.structs[t.Sel.Name] == nil {
			return p, "", err
		}
		return ep, t.Sel.Name, nil
	case *ast.StarExpr:
		return p.elemStruct(pkgs, t.X)
	case *ast.ArrayType:
		return p.elemStruct(pkgs, t.Elt)
	case *ast.MapType:
		return p.elemStruct(pkgs, t.Value)
	}
	return p, "", nil
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
	if d == "" && strings.Contains(prev, goName) {
		d = prev
	}
	if d == "" {
		d = queryFieldDocs[goName]
	}
	return strings.ReplaceAll(d, "|", "\\|")
}

// queryFieldDocs describes the fields of the Looker inline query, which mirror Looker's own query
// object (docs/looker.md, "Facts this code relies on") and carry no comments in the source.
var queryFieldDocs = map[string]string{
	"Model": "LookML model.", "View": "Explore (view) name.", "Fields": "Fields to select, e.g. users.external_id.",
	"Pivots":  "Pivot fields (pivoted measures cannot be sent as attributes; see docs/looker.md#pivots).",
	"Filters": "Field → Looker filter expression.", "Sorts": "Sort fields.", "Limit": "Row limit; -1 = all results.",
	"QueryTimezone": "Time zone for the query's timestamps.",
}

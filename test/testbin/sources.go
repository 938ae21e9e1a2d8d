package testbin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// SnowflakeSource is a `kind: source` document named snowflake running snowflake-source from {{BIN}}
// into the braze destination. spec must be a snowflake.Spec: it is written as the JSON the plugin
// decodes (YAML reads JSON as it is), so every field name comes from the plugin's own contract.
// (testbin cannot import source/snowflake: that package's tests use NewKeyPair.)
func SnowflakeSource(spec any) string {
	return source("snowflake", "snowflake-source", "source/snowflake", spec)
}

// LookerSource is the same for looker-source; spec must be a looker.Spec.
func LookerSource(spec any) string { return source("looker", "looker-source", "source/looker", spec) }

// source renders a source document whose spec block is spec, a Spec of the package pkg.
func source(name, plugin, pkg string, spec any) string {
	t := reflect.TypeOf(spec)
	if want := "github.com/brazesync/brazesync/" + pkg; t == nil || t.PkgPath() != want || t.Name() != "Spec" {
		panic(fmt.Sprintf("testbin: a %s source takes a %s.Spec, not %v", name, pkg[strings.LastIndex(pkg, "/")+1:], t))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(spec); err != nil {
		panic(fmt.Sprintf("testbin: encoding the %s spec: %v", name, err))
	}
	return fmt.Sprintf(`kind: source
spec:
  name: %s
  path: {{BIN}}/%s
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec: %s`, name, plugin, b.String())
}

package looker

import (
	"sync"

	"github.com/invopop/jsonschema"

	"github.com/brazesync/brazesync/plugin/specschema"
)

// jsonSchema is Spec's JSON schema, generated from the struct with the defaults SetDefaults
// applies. NewPlugin registers it; docs/gen renders docs/configuration.md from it.
var jsonSchema = sync.OnceValue(func() string { return specschema.MustGenerate[Spec]() })

// JSONSchema describes a Limit as UnmarshalJSON reads it: a number or a string ("-1" = all results).
func (Limit) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{OneOf: []*jsonschema.Schema{{Type: "integer"}, {Type: "string"}}}
}

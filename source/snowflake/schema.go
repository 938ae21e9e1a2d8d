package snowflake

import (
	"fmt"
	"sync"

	"github.com/invopop/jsonschema"

	"github.com/brazesync/brazesync/plugin/specschema"
)

// jsonSchema is Spec's JSON schema, generated from the struct with the defaults SetDefaults
// applies. NewPlugin registers it; docs/gen renders docs/configuration.md from it. The
// authenticator's default follows the credential given, so the schema states none.
var jsonSchema = sync.OnceValue(func() string {
	return specschema.MustGenerate[Spec](specschema.DerivedDefaults("authenticator"))
})

// JSONSchemaExtend adds the bounds Validate enforces that the struct's types cannot say, so
// `cloudquery` warns about them before Init.
func (Spec) JSONSchemaExtend(s *jsonschema.Schema) {
	for _, name := range []string{"account", "user", "warehouse"} {
		property(s, name).MinLength = ptr(uint64(1))
	}
	property(s, "authenticator").Enum = []any{authJWT, authOAuth, authPassword}
	property(s, "protocol").Enum = []any{"http", "https"}
	property(s, "fetch_concurrency").Minimum = "1"
	property(s, "login_timeout_seconds").Minimum = "1"
	property(s, "port").Minimum, property(s, "port").Maximum = "1", "65535"
	property(s, "queries").MinItems = ptr(uint64(1))
}

// JSONSchemaExtend states a query's name pattern and a non-empty SQL text, as Validate does.
func (Query) JSONSchemaExtend(s *jsonschema.Schema) {
	property(s, "name").Pattern = validTableName.String()
	property(s, "sql").MinLength = ptr(uint64(1))
}

// property is the schema of one field; a name that is not a field is a programmer error.
func property(s *jsonschema.Schema, name string) *jsonschema.Schema {
	p, ok := s.Properties.Get(name)
	if !ok {
		panic(fmt.Sprintf("snowflake spec schema: no property %q", name))
	}
	return p
}

func ptr[T any](v T) *T { return &v }

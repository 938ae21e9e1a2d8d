package file

import (
	"sync"

	"github.com/brazesync/brazesync/plugin/specschema"
)

// jsonSchema is Spec's JSON schema, generated from the struct with the defaults SetDefaults
// applies. NewPlugin registers it; docs/gen renders docs/configuration.md from it.
var jsonSchema = sync.OnceValue(func() string { return specschema.MustGenerate[Spec]() })

package schema

import (
	"github.com/apache/arrow/go/v15/arrow"
	cqschema "github.com/cloudquery/plugin-sdk/v4/schema"
)

// DefaultTableName names records whose schema carries no CloudQuery table name.
const DefaultTableName = "default"

// TableName is the CloudQuery table a record belongs to (schema metadata cq:table_name).
func TableName(sc *arrow.Schema) string {
	if v, ok := sc.Metadata().GetValue(cqschema.MetadataTableName); ok && v != "" {
		return v
	}
	return DefaultTableName
}

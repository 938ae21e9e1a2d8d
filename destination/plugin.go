package destination

import (
	"github.com/cloudquery/plugin-sdk/v4/plugin"
)

// Name, Version and Team identify the plugin; Version is stamped by the build (-ldflags -X).
var (
	Name    = "braze"
	Version = "development"
	Team    = "brazesync"
)

// NewPlugin builds the CloudQuery plugin around New, with the spec's JSON schema.
func NewPlugin() *plugin.Plugin {
	return plugin.NewPlugin(Name, Version, New, plugin.WithKind("destination"), plugin.WithTeam(Team),
		plugin.WithJSONSchema(jsonSchema()))
}

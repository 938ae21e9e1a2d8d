package shared

import (
	"sync"

	"github.com/cloudquery/plugin-sdk/v4/types"
)

var registerOnce sync.Once

// RegisterExtensions registers CloudQuery's Arrow extension types (UUID, JSON, Inet, MAC) so that
// records decoded from IPC keep them: without it a source's JSON column arrives as plain binary.
// plugin-sdk's serve does this for CloudQuery-served plugins; both ends of the go-plugin boundary
// must do it themselves. Safe to call more than once.
func RegisterExtensions() {
	registerOnce.Do(func() {
		// An error means another package registered them first, which is just as good.
		_ = types.RegisterAllExtensions()
	})
}

//go:build !brazesync_testhooks

package pluginserver

import "github.com/rs/zerolog"

// testHooks is empty in release builds: see testhooks.go.
type testHooks struct{}

func loadTestHooks(zerolog.Logger) testHooks { return testHooks{} }

func (testHooks) afterRows(int64) {}

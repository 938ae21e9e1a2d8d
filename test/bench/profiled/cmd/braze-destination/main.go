// Command braze-destination is plugin/cmd/braze-destination's go-plugin mode with
// profiling (see package profiled).
package main

import (
	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/destination/pluginserver"
	"github.com/brazesync/brazesync/test/bench/profiled"
)

var _ = destination.NewPlugin // the same destination package as the real binary

func main() {
	stop := profiled.Start("braze-destination")
	defer stop()
	// No lifeline here: it would end the process before stop writes the profiles.
	pluginserver.Serve()
}

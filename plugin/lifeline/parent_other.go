//go:build !linux

package lifeline

// Without a parent-death signal or a portable pipe check, the watcher's re-parenting test is the
// lifeline.
func setParentDeathSignal() error { return nil }

func stdoutClosed() bool { return false }

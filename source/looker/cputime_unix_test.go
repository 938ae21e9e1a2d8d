//go:build unix

package looker

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used (all threads, GC
// included): on a shared machine it is a steadier cost than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build !unix

package looker

import "time"

// processCPU is not measured off unix; the CPU figure then reads 0.
func processCPU() time.Duration { return 0 }

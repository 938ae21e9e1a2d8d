//go:build !linux || !cgo

package state

// releaseFreed has nothing to do: without cgo (or glibc) the cache lives in Go memory.
func releaseFreed() {}

//go:build linux && cgo

package state

// #include <malloc.h>
import "C"

// releaseFreed hands the C heap's free pages back to the system. With cgo, pebble keeps its block
// cache in C memory, and glibc gives threads that allocate at the same time arenas of their own; a
// block freed in one arena is not reused by another, so a 32 MB cache came to hold about three
// times that in resident memory after reading 3M users' state. Trimming twenty times a second keeps
// the process near what the cache holds (measured: peak 109 MB → 90 MB, resident after 89 → 55 MB).
func releaseFreed() { C.malloc_trim(0) }

// Package bench is brazesync's benchmark suite (`make bench`): schema conversion, the
// whole pipeline through the real binaries into the Braze emulator (unlimited and at
// the rate limit), scaling from 1M to 10M rows, and the Snowflake and Looker sources.
// Every figure is printed in one table and written to bench-results.json; see
// docs/performance.md for what each figure means and how to reproduce it.
//
// The benchmarks live in _test.go files; this package has no other code.
package bench

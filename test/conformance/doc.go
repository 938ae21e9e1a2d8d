// Package conformance holds only tests: plugin-sdk's destination conformance suite run against
// the Braze destination and emulator. What runs, what is skipped and why: conformance_test.go.
package conformance

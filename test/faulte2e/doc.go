// Package faulte2e runs the Braze destination end to end against the Braze emulator with scripted
// faults (429 bursts, 5xx, connection resets before and after the request was applied, truncated
// answers, slow answers, minor errors) and checks that nothing is lost: the emulator's store equals
// the result of applying every delivered row in order, every other row is skipped with a counted
// reason or in the dead-letter file with its reason, and the report adds up. It also holds
// BenchmarkPacing, which measures throughput and 429s under a scaled-down rate limit.
package faulte2e

// Package eventse2e runs event and purchase tables end to end through the real binaries
// (brazesync, file-source, braze-destination) into the Braze emulator, and checks what landed field
// by field against the source rows: each event exactly once across runs, a re-run that sends
// nothing, a run killed with SIGKILL and run again that never records an event twice, scripted
// faults under both on_ambiguous_failure policies with a report that adds up, and invalid rows
// dead-lettered with their column and reason while the rest of the batch lands.
package eventse2e

// Package statee2e shows the sync state end to end, through the real binaries against the Braze
// emulator's data-point counter: an unchanged re-sync costs nothing, a changed one costs only the
// change, a run killed with SIGKILL at any point resumes without losing or re-sending more than was
// in flight, and a state folder is used by one run at a time and never mistaken for an empty one.
package statee2e

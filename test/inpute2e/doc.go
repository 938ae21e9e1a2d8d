// Package inpute2e holds the end-to-end tests of bad input: a corpus of ugly files synced through
// the real binaries into the Braze emulator and checked row by row against an independent reading
// of each file; the exit code of each way a run can fail; a Snowflake OBJECT with null members; and
// a Looker sync counted against the Looker emulator's request log.
package inpute2e

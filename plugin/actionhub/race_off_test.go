//go:build !race

package actionhub_test

// raceEnabled: the race detector multiplies memory, so RSS bounds are only logged.
const raceEnabled = false

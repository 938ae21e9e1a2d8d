package report

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
)

// NewRunID names a run: an optional prefix, the UTC start time (so ids sort by time) and 6 random
// hex digits (so two runs started in the same second on two machines differ).
func NewRunID(prefix string, t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return prefix + t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// StatusOf is the status of a run that ended with err: cancellation is not a failure.
func StatusOf(err error) string {
	switch {
	case err == nil:
		return StatusSuccess
	case errors.Is(err, context.Canceled):
		return StatusCancelled
	}
	return StatusFailed
}

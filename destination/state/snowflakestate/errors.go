package snowflakestate

import (
	"context"
	"errors"
	"fmt"

	sf "github.com/snowflakedb/gosnowflake"
)

// ErrLockLost: another run took the destination's lock over while this one was running (its
// heartbeats did not reach Snowflake for the whole lock timeout). This run may no longer commit
// or upload: the other run owns the state.
var ErrLockLost = errors.New("lost the warehouse state's lock")

// explain wraps a driver error with what was being done, keeping Snowflake's code and query id.
// Driver errors never carry credentials.
func explain(doing string, err error) error {
	var se *sf.SnowflakeError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: cancelled: %w", doing, err)
	case errors.As(err, &se) && se.QueryID != "":
		return fmt.Errorf("%s (Snowflake error %d, query id %s): %w", doing, se.Number, se.QueryID, err)
	case errors.As(err, &se):
		return fmt.Errorf("%s (Snowflake error %d): %w", doing, se.Number, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

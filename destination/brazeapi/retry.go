package brazeapi

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// RetryPolicy decides whether and when to resend a /users/track request.
//
// What is retried, and why it is safe: attribute objects are sets (plain values, arrays, and array
// `add`, which is set-like, braze-api.md §2.2, §3.4), so applying one twice leaves the same profile.
// That is why a request whose answer was lost (a reset after the server applied it, a timeout) may be
// resent. Events, purchases and `inc` are not idempotent; brazesync does not send them yet, and when it
// does they need an idempotency plan before this policy may resend them.
type RetryPolicy struct {
	MaxAttempts int           // total tries per request, first included
	WaitMin     time.Duration // first backoff
	WaitMax     time.Duration // backoff cap
}

// DefaultRetryPolicy: 8 tries, 250 ms doubling to 20 s, with full jitter.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 8, WaitMin: 250 * time.Millisecond, WaitMax: 20 * time.Second}
}

// retryable classifies one attempt's outcome.
//   - 429: retry, after the limiter's pause until X-RateLimit-Reset.
//   - 5xx except 501: retry with backoff; Braze does not replay requests lost in an incident (§3.4).
//   - network errors and timeouts: retry; the request may or may not have been applied, and resending
//     attribute sets is safe (see RetryPolicy).
//   - other 4xx, and 501: never; the request itself is wrong and would fail again.
//   - the caller's context ending: never.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// Resets and truncated bodies surface as plain I/O errors.
	return errors.Is(err, errTransport)
}

// backoff returns the wait before attempt n+1 (n counts from 1): exponential with full jitter.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.WaitMin << min(n-1, 30)
	if d <= 0 || d > p.WaitMax {
		d = p.WaitMax
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

var errTransport = errors.New("transport error")

func isRateLimited(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests
}

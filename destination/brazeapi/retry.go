package brazeapi

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy decides whether and when to resend a /users/track request.
//
// What is retried, and why it is safe: attribute objects are sets (plain values, whole arrays, nested
// objects without _merge_objects, and array `add`, which is set-like; braze-api.md §2.2, §3.4), so
// applying one twice leaves the same profile. That is why a request whose answer was lost (a reset
// after the server applied it, a timeout, a truncated answer) may be resent. Events, purchases and
// `inc` are not idempotent; brazesync does not send them, and when it does they need an idempotency
// plan before this policy may resend them.
type RetryPolicy struct {
	MaxAttempts int           // total tries per request, first included (429s count too)
	WaitMin     time.Duration // first backoff
	WaitMax     time.Duration // backoff cap, and the cap on a server's Retry-After
}

// DefaultRetryPolicy: 8 tries, 250 ms doubling to 20 s, with jitter.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 8, WaitMin: 250 * time.Millisecond, WaitMax: 20 * time.Second}
}

// retryable classifies one attempt's outcome. Each branch says what is retried and why.
//   - the caller's context ended: never; the run is stopping.
//   - 429: yes, after the limiter's pause until X-RateLimit-Reset. Nothing was applied.
//   - 5xx except 501: yes, with backoff. Braze does not replay requests lost in an incident (§3.4);
//     502/503 mean nothing was applied, 500/504 may have applied it, and resending sets is safe.
//   - network errors, timeouts, resets and truncated answers: yes, with backoff. The request may or
//     may not have been applied; resending attribute sets is safe (see RetryPolicy).
//   - other 4xx, 501, 3xx and 2xx answers whose message is not "success": never; the request itself
//     is wrong (or was refused) and would fail again.
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
	return errors.Is(err, errTransport)
}

// backoff returns the wait before attempt n+1 (n counts from 1): exponential from WaitMin, capped at
// WaitMax, with "equal jitter" (a random point in the upper half), so that requests that failed
// together do not come back together. jitter(k) returns a number in [0, k].
func (p RetryPolicy) backoff(n int, jitter func(int64) int64) time.Duration {
	d := p.WaitMin << min(n-1, 30)
	if d <= 0 || d > p.WaitMax {
		d = p.WaitMax
	}
	if d <= 1 {
		return d
	}
	return d/2 + time.Duration(jitter(int64(d/2)))
}

// retryAfter reads a Retry-After in seconds, capped at the policy's WaitMax (a server must not be able
// to stall the client indefinitely). Braze documents only X-RateLimit-Reset; proxies in front of it
// may send Retry-After on 503. 0 means none.
func (p RetryPolicy) retryAfter(h http.Header) time.Duration {
	secs, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || secs <= 0 {
		return 0
	}
	return min(time.Duration(secs)*time.Second, p.WaitMax)
}

func randJitter(k int64) int64 { return rand.Int64N(k + 1) }

var errTransport = errors.New("transport error")

func isRateLimited(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests
}

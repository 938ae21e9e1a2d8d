package brazeapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy decides whether and when to resend a /users/track request.
//
// What is retried, and why it is safe: attribute objects are sets (plain values, whole arrays, nested
// objects without _merge_objects, and array `add`, which is set-like; docs/braze-api.md §2.2, §3.4), so
// applying one twice leaves the same profile. That is why a request whose answer was lost (a reset
// after the server applied it, a timeout, a truncated answer) may be resent. Events and purchases
// are not idempotent: requests holding them are sent with TrackEvents, and after such a lost answer
// they are resent only under on_ambiguous_failure: retry (ambiguous.go). brazesync never sends `inc`.
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
//   - TLS failures a retry cannot change (an untrusted, expired or mismatched certificate, a server
//     that does not speak TLS): never; they end the run at the first attempt (see TLSError).
//   - a request holding events or purchases (TrackEvents) after an ambiguous attempt (a timeout or
//     reset after the body was written, an answer cut short, any 5xx): never under
//     on_ambiguous_failure dead_letter, the default, so that no event is recorded twice; as above
//     under retry. Braze does not deduplicate events (ambiguous.go).
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if tlsProblem(err) != "" {
		return false
	}
	if holdAmbiguous(ctx, err) {
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

// ErrDrained: the caller is draining (WithDrain) and the request was not sent, or not sent again.
// Nothing of it reached Braze after the drain began; whether an earlier attempt did is in the
// error it wraps.
// It is a context.Canceled: the run is cancelled, not failed.
var ErrDrained = fmt.Errorf("not sent: the run is shutting down (%w)", context.Canceled)

type drainKey struct{}

// WithDrain returns a context under which Track starts no new attempt once drain has ended: a
// request waiting for the rate limiter or for a backoff gives up with ErrDrained at once, while an
// attempt already on the wire runs to its answer (ending ctx itself abandons that one too). A
// graceful shutdown uses it: nothing new starts, and what is in flight may finish.
func WithDrain(ctx, drain context.Context) context.Context {
	return context.WithValue(ctx, drainKey{}, drain)
}

func drained(ctx context.Context) bool {
	d, _ := ctx.Value(drainKey{}).(context.Context)
	return d != nil && d.Err() != nil
}

// untilDrained is ctx, also ended when the caller drains: for the waits before an attempt.
func untilDrained(ctx context.Context) (context.Context, context.CancelFunc) {
	d, _ := ctx.Value(drainKey{}).(context.Context)
	if d == nil {
		return ctx, func() {}
	}
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(d, cancel)
	return wctx, func() { stop(); cancel() }
}

// acquire waits for the rate limiter to allow the next attempt. When the caller drains, before or
// during the wait, it returns ErrDrained (wrapping last, the previous attempt's error) instead.
func (c *Client) acquire(ctx context.Context, last error) (ticket, error) {
	if drained(ctx) {
		return ticket{}, drainedErr(last)
	}
	wctx, done := untilDrained(ctx)
	defer done()
	tk, err := c.limiter.acquire(wctx)
	switch {
	case ctx.Err() == nil && drained(ctx):
		return ticket{}, drainedErr(last) // a ticket won as the drain began is not used
	case err != nil:
		return ticket{}, fmt.Errorf("waiting for the rate limiter: %w", err)
	}
	return tk, nil
}

// pause waits d before a retry of the attempt that failed with last; when the caller drains
// meanwhile, the retry is not sent and the error is ErrDrained.
func (c *Client) pause(ctx context.Context, d time.Duration, last error) error {
	wctx, done := untilDrained(ctx)
	defer done()
	err := c.sleep(wctx, d)
	switch {
	case ctx.Err() == nil && drained(ctx):
		return drainedErr(last)
	case err != nil:
		return fmt.Errorf("waiting to retry: %w", errors.Join(err, last))
	}
	return nil
}

// drainedErr is ErrDrained, wrapping the last attempt's error when there was one.
func drainedErr(last error) error {
	if last == nil {
		return ErrDrained
	}
	return fmt.Errorf("%w (last attempt: %w)", ErrDrained, last)
}

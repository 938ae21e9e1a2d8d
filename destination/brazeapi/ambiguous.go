package brazeapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptrace"
	"sync"
)

// Events and purchases are the one kind of object Braze does not deduplicate: an event sent twice is
// two events, and a Canvas triggered by it may fire twice (docs/braze-api.md §1.2, §3.4). Attribute
// requests are resent after any failure that may be temporary, because applying a set twice
// changes nothing; a request holding events or purchases is resent only when Braze certainly did
// not apply it. What that means for each outcome of an attempt:
//
//   - 429, a refused connection, a failed DNS lookup or TLS handshake, a reset before the body was
//     written, and every 4xx: not applied. Retried (or dead-lettered) exactly as attributes are.
//   - a timeout or reset after the body was written, an answer cut short (even a 2xx: its per-object
//     errors are unknown), and every 5xx: ambiguous, Braze may have recorded the objects. Under
//     AmbiguousDeadLetter (the default: at most once) the request is not sent again and the error is
//     an *AmbiguousError; under AmbiguousRetry (at least once) it is resent like an attribute
//     request, and the result counts the ambiguous attempts.
//
// "The body was written" is what net/http reports through httptrace: the request was handed to a
// connection and its write did not fail. When that is not known for sure (the write was still
// running when the attempt ended), the attempt counts as ambiguous: the safe side of at-most-once.

// AmbiguousPolicy says what TrackEvents does after an attempt whose outcome is unknown.
type AmbiguousPolicy int

const (
	// AmbiguousDeadLetter stops at the first ambiguous attempt: each event is recorded at most once.
	AmbiguousDeadLetter AmbiguousPolicy = iota
	// AmbiguousRetry resends: each event is recorded at least once, possibly twice.
	AmbiguousRetry
)

// ErrAmbiguous marks a failed request holding events or purchases that Braze may have recorded
// (partly or wholly): its rows must not be sent again blindly.
var ErrAmbiguous = errors.New("braze may have recorded the request")

// AmbiguousError is the failure of a request that AmbiguousDeadLetter did not send again: Err is
// the attempt whose outcome is unknown. errors.Is finds ErrAmbiguous and Err's classes (an
// *APIError for a 5xx), but never ErrUnreachable: one lost answer says nothing about the next
// request, so it does not end the run.
type AmbiguousError struct {
	Attempts int
	Err      error
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%v (not sent again, so that nothing is recorded twice): %v", ErrAmbiguous, e.Err)
}

// Unwrap lets errors.Is and errors.As see ErrAmbiguous and the attempt's error.
func (e *AmbiguousError) Unwrap() []error { return []error{ErrAmbiguous, e.Err} }

// EventResult is the outcome of one TrackEvents call.
type EventResult struct {
	Result
	// Ambiguous counts the attempts whose outcome is unknown. Under AmbiguousRetry a request can
	// succeed with Ambiguous > 0: its objects may have been recorded more than once.
	Ambiguous int
}

// TrackEvents sends a /users/track body holding events or purchases (with or without attributes).
// It paces and retries as Track does, except after an ambiguous attempt (see AmbiguousPolicy):
// under AmbiguousDeadLetter the error is an *AmbiguousError; under AmbiguousRetry a failure after
// an ambiguous attempt wraps ErrAmbiguous too, since an earlier attempt may have been recorded.
func (c *Client) TrackEvents(ctx context.Context, body []byte, policy AmbiguousPolicy) (EventResult, error) {
	st := &onceState{policy: policy}
	res, err := c.Track(st.attach(ctx), body)
	out := EventResult{Result: res}
	st.mu.Lock()
	if err != nil && st.pending && st.ambiguousLocked(err) {
		st.ambiguous++ // the attempt the run's end cut short: Track returned before classifying it
	}
	out.Ambiguous = st.ambiguous
	stopped := st.stopped
	st.mu.Unlock()
	switch {
	case err == nil:
		return out, nil
	case stopped != nil:
		return out, &AmbiguousError{Attempts: res.Attempts, Err: stopped}
	case out.Ambiguous > 0:
		return out, fmt.Errorf("%w: %w", ErrAmbiguous, err)
	}
	return out, err
}

// onceState follows one TrackEvents call: what net/http reported of the current attempt, and the
// ambiguous attempts so far. The trace callbacks run on the transport's goroutines.
type onceState struct {
	policy AmbiguousPolicy

	mu          sync.Mutex
	pending     bool // an attempt started and holdAmbiguous has not classified it
	connected   bool // the attempt got a connection: its request was being written
	writeFailed bool // writing the request failed: the server cannot have the whole body
	ambiguous   int
	stopped     error // the attempt AmbiguousDeadLetter stopped at
}

type onceKey struct{}

// attach returns ctx carrying the state and a trace that feeds it.
func (st *onceState) attach(ctx context.Context) context.Context {
	trace := &httptrace.ClientTrace{
		GetConn: func(string) { // each attempt, and each retry net/http makes on its own, starts here
			st.mu.Lock()
			st.pending, st.connected, st.writeFailed = true, false, false
			st.mu.Unlock()
		},
		GotConn: func(httptrace.GotConnInfo) {
			st.mu.Lock()
			st.connected = true
			st.mu.Unlock()
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			st.mu.Lock()
			st.writeFailed = info.Err != nil
			st.mu.Unlock()
		},
	}
	return context.WithValue(httptrace.WithClientTrace(ctx, trace), onceKey{}, st)
}

// ambiguousLocked reports an attempt error after which Braze may have applied the request.
func (st *onceState) ambiguousLocked(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status >= 500
	}
	if tlsProblem(err) != "" {
		return false // the handshake failed: no byte of the request was sent
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, errTransport) {
		return st.connected && !st.writeFailed
	}
	return false
}

// holdAmbiguous is the retry policy's hook for requests sent by TrackEvents: it classifies the
// attempt that failed with err, and reports whether it must not be resent (AmbiguousDeadLetter
// after an ambiguous attempt). For any other request it reports false.
func holdAmbiguous(ctx context.Context, err error) bool {
	st, _ := ctx.Value(onceKey{}).(*onceState)
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.pending = false
	if !st.ambiguousLocked(err) {
		return false
	}
	st.ambiguous++
	if st.policy == AmbiguousRetry {
		return false
	}
	st.stopped = err
	return true
}

package brazeapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel classes of failure, joined onto the concrete error so callers can branch with errors.Is.
var (
	// ErrUnauthorized: Braze refused the key (401). Wrong key, or a key from another instance.
	ErrUnauthorized = errors.New("braze rejected the API key")
	// ErrForbidden: the key lacks the users.track permission (403).
	ErrForbidden = errors.New("the API key is not allowed users.track")
	// ErrUnreachable: no HTTP answer at all after every retry.
	ErrUnreachable = errors.New("braze endpoint unreachable")
	// ErrNotSuccess: a 2xx answer whose message is not "success" (braze-api.md §3.3): not applied.
	ErrNotSuccess = errors.New("braze answered without success")
)

// ObjectError is one non-fatal error of a 201 answer: the object at Index of InputArray was not applied.
type ObjectError struct {
	Type       string `json:"type"`
	InputArray string `json:"input_array"`
	Index      int    `json:"index"`
}

// APIError is an answer Braze gave that is not a success. Message is Braze's own text; Errors are the
// per-object errors the answer listed. Neither ever contains the API key (it travels only in the
// request's Authorization header).
type APIError struct {
	Status  int
	Message string
	Errors  []ObjectError
	class   error
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.class != nil {
		return fmt.Sprintf("%v: braze answered %d: %s", e.class, e.Status, msg)
	}
	return fmt.Sprintf("braze answered %d: %s", e.Status, msg)
}

// Unwrap lets errors.Is find the failure class.
func (e *APIError) Unwrap() error { return e.class }

// Retryable reports whether resending the same request may succeed: 429 and 5xx except 501.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || (e.Status >= 500 && e.Status != http.StatusNotImplemented)
}

// Fatal reports whether no later request with the same key can succeed either (auth failures).
func Fatal(err error) bool {
	return errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden)
}

func classify(status int) error {
	switch status {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	}
	return nil
}

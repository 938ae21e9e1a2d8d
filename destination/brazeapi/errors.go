package brazeapi

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel classes of failure, joined onto the concrete error so callers can branch with errors.Is.
var (
	// ErrUnauthorized: Braze refused the key (401). Wrong key, or a key from another instance.
	ErrUnauthorized = errors.New("braze rejected the API key")
	// ErrForbidden: the key lacks the users.track permission (403).
	ErrForbidden = errors.New("the API key is not allowed users.track")
	// ErrUnreachable: no HTTP answer at all after every retry.
	ErrUnreachable = errors.New("braze endpoint unreachable")
	// ErrNotSuccess: a 2xx answer whose message is not "success" (docs/braze-api.md §3.3): not applied.
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

// ErrTLS: the TLS handshake with the endpoint failed in a way no retry can change: a certificate
// that is not trusted, expired or for another host, or a server that does not speak TLS. It is a
// kind of ErrUnreachable (no HTTP answer), so it ends the run with the same exit code, but at the
// first attempt and with the certificate problem named.
var ErrTLS = errors.New("TLS handshake failed")

// TLSError names the certificate (or protocol) problem of a failed handshake with Host.
type TLSError struct {
	Host    string
	Problem string // what is wrong, in words: "certificate signed by an unknown authority", ...
	Err     error  // the handshake's own error
}

func (e *TLSError) Error() string {
	return fmt.Sprintf("%v with %s: %s (not retried: %v)", ErrTLS, e.Host, e.Problem, e.Err)
}

// Unwrap lets errors.Is find ErrTLS, ErrUnreachable and the x509 or tls error itself.
func (e *TLSError) Unwrap() []error { return []error{ErrTLS, ErrUnreachable, e.Err} }

// tlsProblem says what is wrong when err is a permanent TLS failure, and "" otherwise. Timeouts and
// resets during a handshake are not here: those are transport errors, retried like any other.
func tlsProblem(err error) string {
	var (
		unknownCA  x509.UnknownAuthorityError
		hostname   x509.HostnameError
		invalid    x509.CertificateInvalidError
		roots      x509.SystemRootsError
		verify     *tls.CertificateVerificationError
		header     tls.RecordHeaderError
		alert      tls.AlertError
		constraint x509.ConstraintViolationError
	)
	switch {
	case errors.As(err, &unknownCA):
		return "certificate signed by an unknown authority (not trusted by this machine; SSL_CERT_FILE or SSL_CERT_DIR add a CA)"
	case errors.As(err, &hostname):
		return fmt.Sprintf("certificate is not valid for %s", hostname.Host)
	case errors.As(err, &invalid):
		return "certificate is not valid: " + invalid.Error()
	case errors.As(err, &roots):
		return "no trusted root certificates on this machine"
	case errors.As(err, &constraint):
		return "certificate violates its issuer's constraints"
	case errors.As(err, &verify):
		return "certificate could not be verified"
	case errors.As(err, &header), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "the server does not speak TLS (an http:// server behind an https:// endpoint?)"
	case errors.As(err, &alert):
		return "the server refused the handshake: " + alert.Error()
	}
	return ""
}

// tlsFailure returns err as a *TLSError when it is a permanent TLS failure with host, else nil.
func tlsFailure(host string, err error) error {
	if err == nil {
		return nil
	}
	var te *TLSError
	if errors.As(err, &te) {
		return te
	}
	if p := tlsProblem(err); p != "" {
		return &TLSError{Host: host, Problem: p, Err: err}
	}
	return nil
}

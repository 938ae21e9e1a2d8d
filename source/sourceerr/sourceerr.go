// Package sourceerr gives source plugins' errors a class the runner can act on. CloudQuery's
// protocol carries only a gRPC status from a plugin to its host, and plugin-sdk keeps the status of
// an error returned by Sync (it wraps with %w), so each class is a gRPC code:
//
//	Unavailable, DeadlineExceeded   retryable: unreachable, timed out, 5xx, a read failing mid-run
//	InvalidArgument, Unauthenticated,
//	PermissionDenied, NotFound      configuration: bad credentials, unknown objects, SQL errors
//	Internal                        the plugin itself failed: a recovered panic
//
// Errors keep their message; the runner maps the codes to exit codes (docs/operations.md).
// Init errors lose their code in plugin-sdk (it re-wraps them as Internal), so sources check only
// their spec in Init and connect on the first Tables or Sync call.
package sourceerr

import (
	"errors"
	"fmt"
	"runtime/debug"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// classified is an error with a gRPC code.
type classified struct {
	code codes.Code
	err  error
}

func (e *classified) Error() string { return e.err.Error() }
func (e *classified) Unwrap() error { return e.err }

// GRPCStatus lets grpc-go (status.FromError, also through wrapping) send the code.
func (e *classified) GRPCStatus() *status.Status { return status.New(e.code, e.err.Error()) }

func with(code codes.Code, err error) error {
	if err == nil {
		return nil
	}
	var c *classified
	if errors.As(err, &c) {
		return err // the innermost class stands: it was decided where the cause was known
	}
	return &classified{code: code, err: err}
}

// Retryable marks an outage: unreachable, 5xx, a failure that may pass.
func Retryable(err error) error { return with(codes.Unavailable, err) }

// Timeout marks a timed-out request: retryable.
func Timeout(err error) error { return with(codes.DeadlineExceeded, err) }

// Config marks a mistake in the spec or the query: not retryable without a fix.
func Config(err error) error { return with(codes.InvalidArgument, err) }

// Unauthenticated marks refused credentials: not retryable without a fix.
func Unauthenticated(err error) error { return with(codes.Unauthenticated, err) }

// PermissionDenied marks credentials that may not do what the spec asks.
func PermissionDenied(err error) error { return with(codes.PermissionDenied, err) }

// NotFound marks an object the spec names that does not exist (a file, a Look, a warehouse).
func NotFound(err error) error { return with(codes.NotFound, err) }

// Code reports the class of err (codes.Unknown when it has none).
func Code(err error) codes.Code {
	var c *classified
	if errors.As(err, &c) {
		return c.code
	}
	return codes.Unknown
}

// Recover turns a panic into an Internal error naming where it happened, so a plugin never dies of
// one input and the runner reports it as the plugin's own failure. Use it deferred, with the
// function's named error result:
//
//	defer sourceerr.Recover(&err, func() string { return "reading users.csv row 12" })
//
// The stack goes to stack, for the plugin's log; the error holds only the panic's value.
func Recover(err *error, where func() string, stack func([]byte)) {
	r := recover()
	if r == nil {
		return
	}
	if stack != nil {
		stack(debug.Stack())
	}
	*err = &classified{code: codes.Internal, err: fmt.Errorf("panic while %s: %v", where(), r)}
}

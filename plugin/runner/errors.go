package runner

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Exit codes of `brazesync sync`, documented in docs/operations.md. Orchestrators branch on them:
// retry 1, 4 and maybe 3; never retry 2 without a fix.
const (
	ExitOK        = 0   // every row delivered, skipped for a counted reason, or dead-lettered within limits
	ExitFailed    = 1   // the run failed: delivery errors, rejections above max_rejected_rows, source errors
	ExitConfig    = 2   // bad flags, spec files or column mapping; nothing was sent
	ExitAuth      = 3   // Braze refused the key (401/403) or the endpoint was unreachable
	ExitPlugin    = 4   // a plugin binary is missing, failed the handshake, crashed or hung
	ExitCancelled = 130 // SIGINT or SIGTERM; the report was still written
)

// Errors of the destination as the plugin reported them across the boundary.
var (
	ErrDestinationAuth = errors.New("braze refused the credentials")
	ErrUnavailable     = errors.New("braze unreachable")
)

// ExitCode maps a run's error to its exit code.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.Is(err, ErrConfig):
		return ExitConfig
	case errors.Is(err, ErrDestinationAuth), errors.Is(err, ErrUnavailable):
		return ExitAuth
	case errors.Is(err, ErrPlugin):
		return ExitPlugin
	}
	return ExitFailed
}

// fromDestination classifies an error the destination plugin returned over gRPC.
func fromDestination(name string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("destination %q: %w", name, err)
	}
	msg := fmt.Errorf("destination %q: %s", name, st.Message())
	switch st.Code() {
	case codes.InvalidArgument:
		return fmt.Errorf("%w: %w", ErrConfig, msg)
	case codes.Unauthenticated, codes.PermissionDenied:
		return fmt.Errorf("%w: %w", ErrDestinationAuth, msg)
	case codes.Unavailable:
		return fmt.Errorf("%w: %w", ErrUnavailable, msg)
	case codes.Canceled:
		return fmt.Errorf("%w: %w", context.Canceled, msg)
	}
	return msg
}

// grpcMessage strips the gRPC status wrapping so users read the plugin's own words.
func grpcMessage(err error) error {
	if st, ok := status.FromError(err); ok {
		return errors.New(st.Message())
	}
	return err
}

package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	pbcq "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Exit codes of `brazesync sync`, documented in docs/operations.md. Orchestrators branch on them:
// retry 1, 4 and maybe 3; never retry 2 without a fix.
const (
	ExitOK        = 0   // every row delivered, skipped for a counted reason, or dead-lettered within limits
	ExitFailed    = 1   // the run failed and may pass when run again: delivery errors, rejections above max_rejected_rows, a source unreachable, timed out or failing mid-run
	ExitConfig    = 2   // bad flags, spec files or column mapping, refused source credentials, unknown objects, SQL errors; nothing more was sent
	ExitAuth      = 3   // Braze refused the key (401/403) or the endpoint was unreachable
	ExitPlugin    = 4   // a plugin binary is missing, failed the handshake, crashed, panicked or hung
	ExitCancelled = 130 // SIGINT or SIGTERM; the report was still written
)

// Errors of the plugins as they reported them across the boundary.
var (
	ErrDestinationAuth = errors.New("braze refused the credentials")
	ErrUnavailable     = errors.New("braze unreachable")
	// ErrSourceRetryable marks a source that was unreachable, timed out or failed mid-run: exit 1.
	ErrSourceRetryable = errors.New("retryable")
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

// failure classifies an error of a source plugin's RPC (doing: "init", "sync", …) by the gRPC code
// the plugin gave it (package source/sourceerr for ours):
//
//	the plugin's process is gone, or Internal (a recovered panic)  ErrPlugin: exit 4
//	InvalidArgument, Unauthenticated, PermissionDenied, NotFound,
//	FailedPrecondition, OutOfRange                                 ErrConfig: exit 2
//	Unavailable, DeadlineExceeded, ResourceExhausted, Aborted,
//	Unknown (an unclassified error)                                ErrSourceRetryable: exit 1
//
// Init is special: plugin-sdk turns every Init error into Internal, and our sources check only
// their spec there, so a failed Init of a live plugin is a configuration error.
func (s *source) failure(ctx context.Context, doing string, err error) error {
	msg := sourceMessage(err)
	if ctx.Err() != nil {
		return fmt.Errorf("source %q: %s: %w", s.spec.Name, doing, ctx.Err())
	}
	if !s.alive(ctx) {
		return fmt.Errorf("%w: source %q (%s) exited unexpectedly during %s: %s", ErrPlugin, s.spec.Name, s.spec.Path, doing, msg)
	}
	code := status.Code(err)
	if doing == "init" {
		code = codes.InvalidArgument
	}
	switch code {
	case codes.Internal:
		return fmt.Errorf("%w: source %q (%s) failed during %s: %s", ErrPlugin, s.spec.Name, s.spec.Path, doing, msg)
	case codes.InvalidArgument, codes.Unauthenticated, codes.PermissionDenied, codes.NotFound,
		codes.FailedPrecondition, codes.OutOfRange:
		return fmt.Errorf("%w: source %q: %s", ErrConfig, s.spec.Name, msg)
	case codes.Canceled:
		return fmt.Errorf("source %q: %s: %w", s.spec.Name, doing, context.Canceled)
	}
	return fmt.Errorf("source %q: %s: %s (%w)", s.spec.Name, doing, msg, ErrSourceRetryable)
}

// alive asks the plugin its name: a process that died (killed, crashed) no longer answers, which
// tells a dead plugin apart from one that reported an outage.
func (s *source) alive(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	_, err := s.rpc.GetName(ctx, &pbcq.GetName_Request{})
	return err == nil
}

// sdkPrefixes are the words plugin-sdk puts before a plugin's own error message.
var sdkPrefixes = []string{"failed to init plugin: ", "failed to initialize client: ", "failed to sync records: ",
	"failed to sync unmanaged client: ", "failed to get tables: "}

// sourceMessage is the plugin's own message: without the gRPC wrapping and plugin-sdk's prefixes.
func sourceMessage(err error) string {
	msg := grpcMessage(err).Error()
	for trimmed := true; trimmed; {
		trimmed = false
		for _, p := range sdkPrefixes {
			if strings.HasPrefix(msg, p) {
				msg, trimmed = msg[len(p):], true
			}
		}
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

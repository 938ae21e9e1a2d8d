package sourceerr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestCodeSurvivesWrapping: the class reaches gRPC through any %w wrapping (plugin-sdk wraps Sync
// errors twice) with the outer message, and the innermost class stands.
func TestCodeSurvivesWrapping(t *testing.T) {
	err := fmt.Errorf("failed to sync records: %w", fmt.Errorf("table t: %w", NotFound(errors.New("no such look"))))
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.NotFound || st.Message() != err.Error() {
		t.Fatalf("status %v %v", st, ok)
	}
	if got := Code(Retryable(fmt.Errorf("x: %w", Config(errors.New("bad"))))); got != codes.InvalidArgument {
		t.Errorf("outer class replaced the inner one: %v", got)
	}
	if Retryable(nil) != nil || Code(errors.New("plain")) != codes.Unknown {
		t.Error("nil or unclassified errors")
	}
}

// TestRecoverNamesWhere: a panic becomes an Internal error naming where it happened.
func TestRecoverNamesWhere(t *testing.T) {
	var stack []byte
	f := func() (err error) {
		defer Recover(&err, func() string { return "reading users.csv after row 12" }, func(s []byte) { stack = s })
		var m map[string]int
		m["x"] = 1 // assignment to a nil map
		return nil
	}
	err := f()
	if Code(err) != codes.Internal || !strings.Contains(err.Error(), "panic while reading users.csv after row 12") || len(stack) == 0 {
		t.Errorf("err %v (code %v), %d stack bytes", err, Code(err), len(stack))
	}
}

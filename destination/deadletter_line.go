package destination

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/brazesync/brazesync/schema"
)

// Dead-letter reasons: the reason of each line, also a key of the report's rows_rejected
// (docs/operations.md#the-dead-letter-file).
const (
	// Rows the encoder refused, with the column and attribute named (schema's Reject codes).
	ReasonInvalidValue  = schema.RejectInvalidValue  // a value Braze would not store as it is
	ReasonInvalidKey    = schema.RejectInvalidKey    // the user key cannot be sent unaltered
	ReasonUnreadableRow = schema.RejectUnreadableRow // the source could not read the row faithfully

	ReasonTooLarge     = "object_too_large"  // one object alone exceeds max_request_bytes
	ReasonMinorError   = "braze_minor_error" // a 201 listed the object in errors[]: Braze did not apply it
	ReasonNotSuccess   = "braze_not_success" // a 2xx whose message is not "success"
	ReasonCancelled    = "run_cancelled"     // the run was cancelled or its shutdown deadline passed
	ReasonUnauthorized = "unauthorized"      // 401: no request with this key can succeed
	ReasonForbidden    = "forbidden"         // 403
	ReasonUnreachable  = "unreachable"       // no HTTP answer after every retry
	ReasonFailed       = "request_failed"    // any other failure without an HTTP status
	ReasonRunFailed    = "run_failed"        // another fatal error (a mapping error) stopped the run
	// ReasonMayHaveRecorded: events or purchases whose request's answer never came back (or was a
	// 5xx), or that were on the wire when an earlier run died: Braze may have recorded them, so
	// they are not sent again blindly (docs/events.md). The line carries the object to replay.
	ReasonMayHaveRecorded = "braze_may_have_recorded"
)

// DeadLetterLine is the documented shape of one line of the dead-letter file.
type DeadLetterLine struct {
	// Table is the source table (cq:table_name), Row the row's number within it for this run (from 0).
	Table string `json:"table"`
	Row   int64  `json:"row"`
	// Key is the user key as sent (the alias name for user_alias keys).
	Key string `json:"key,omitempty"`
	// Reason is one of the Reason constants, also a key of the report's rows_rejected.
	Reason string `json:"reason"`
	// Detail is Braze's own error type or message, or the encoder's reason.
	Detail string `json:"detail,omitempty"`
	// Column and Attribute name the value the encoder refused (encoder reasons only; the value itself
	// is not written: the encoder keeps no partial object and values may be PII the user did not
	// mean to copy into a file).
	Column    string `json:"column,omitempty"`
	Attribute string `json:"attribute,omitempty"`
	// Status is the HTTP status of the last answer, when there was one.
	Status int `json:"http_status,omitempty"`
	// MergedRows is set when the object held several rows of the same user (each has its own line).
	MergedRows int `json:"merged_rows,omitempty"`
	// Attributes is the attributes object that was not applied, exactly as built for Braze.
	Attributes json.RawMessage `json:"attributes,omitempty"`
	// InputArray and Object are, for event and purchase tables, the request array ("events" or
	// "purchases") and the object exactly as built for Braze (docs/events.md).
	InputArray string          `json:"input_array,omitempty"`
	Object     json.RawMessage `json:"object,omitempty"`
	// Removal marks a mirror-mode removal that was not applied (docs/mirror.md): no row asked for
	// it, so Row is -1; the next clean run sends it again.
	Removal bool `json:"removal,omitempty"`
}

// ReadDeadLetters decodes a dead-letter file. A file that does not exist holds no line: the
// destination creates it on the first rejection only.
func ReadDeadLetters(path string) ([]DeadLetterLine, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening dead-letter file: %w", err)
	}
	defer f.Close()
	var out []DeadLetterLine
	dec := json.NewDecoder(bufio.NewReader(f)) // no line-length limit: a line holds a whole object
	for dec.More() {
		var l DeadLetterLine
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("reading dead-letter file: line %d: %w", len(out)+1, err)
		}
		out = append(out, l)
	}
	return out, nil
}

package destination

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/brazesync/brazesync/schema"
)

// Braze limits and defaults, from shared/reference/braze-api.md.
const (
	// maxObjectsPerRequest: /users/track takes at most 75 objects in total per request (§1.5).
	maxObjectsPerRequest = 75
	// defaultRateLimit per defaultRateWindow: the /users/track limit since 2024-10-28 (§1.6).
	defaultRateLimit  = 3000
	defaultRateWindow = 3 * time.Second
	// defaultMaxRequestBytes keeps each request far below any proxy's body limit; Braze documents none
	// for /users/track (§1.5), but 2 MB for its bulk sibling.
	defaultMaxRequestBytes = 1 << 20
	defaultConcurrency     = 16
	defaultExportAttribute = "looker_export" // the stock Looker action's (looker.md §2)
	defaultExportValue     = "LOOKER_EXPORT"
	defaultDeadLetterFile  = "brazesync-dead-letter.jsonl"
)

// errInvalidSpec marks every spec problem, so callers can tell configuration errors apart.
var errInvalidSpec = errors.New("invalid braze destination spec")

// errMapping marks a table whose columns cannot be mapped to Braze (no key column, ambiguity, ...).
var errMapping = errors.New("invalid column mapping")

// Spec is the braze destination's `spec:` block. Unknown fields are an error.
type Spec struct {
	// Braze REST API key with the users.track permission. Use ${BRAZE_API_KEY}; it never appears in logs or reports.
	APIKey string `json:"api_key" jsonschema:"required,minLength=1"`
	// REST endpoint of your Braze instance, e.g. https://rest.iad-01.braze.com (braze-api.md §6).
	Endpoint string `json:"endpoint" jsonschema:"required,minLength=1"`
	// Send the API key to a host that is not a published Braze REST host.
	AllowCustomEndpoint bool `json:"allow_custom_endpoint,omitempty"`

	schema.Config

	// Custom attribute array that flags exported users ("looker_export" as the stock Looker action). Empty string disables the flag.
	ExportAttribute *string `json:"export_attribute,omitempty"`
	// Value added to the export attribute array.
	ExportValue string `json:"export_value,omitempty" jsonschema:"default=LOOKER_EXPORT"`
	// Only update users that already exist in Braze (the stock action's behaviour).
	UpdateExistingOnly *bool `json:"update_existing_only,omitempty" jsonschema:"default=true"`

	// Objects per /users/track request: 75 by default, 50 for "Monthly Active Users CY 24-25" contracts.
	BatchSize int `json:"batch_size,omitempty" jsonschema:"minimum=1,maximum=75,default=75"`
	// Largest request body in bytes.
	MaxRequestBytes int `json:"max_request_bytes,omitempty" jsonschema:"minimum=1024,default=1048576"`
	// Requests in flight at once.
	Concurrency int `json:"concurrency,omitempty" jsonschema:"minimum=1,maximum=256,default=16"`
	// Requests allowed per rate_window for the workspace; -1 disables client-side pacing.
	RateLimit int `json:"rate_limit,omitempty" jsonschema:"default=3000"`
	// Length of the rate-limit window, as a Go duration.
	RateWindow string `json:"rate_window,omitempty" jsonschema:"default=3s"`
	// Tries per request before its rows are dead-lettered.
	MaxAttempts int `json:"max_attempts,omitempty" jsonschema:"minimum=1,maximum=50,default=8"`
	// Timeout of one HTTP attempt, as a Go duration.
	RequestTimeout string `json:"request_timeout,omitempty" jsonschema:"default=30s"`

	// JSONL file that receives every rejected row with its reason.
	DeadLetterFile string `json:"dead_letter_file,omitempty" jsonschema:"default=brazesync-dead-letter.jsonl"`
	// Build every request and write the payloads to dry_run_file; send nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// File that receives the payloads of a dry run.
	DryRunFile string `json:"dry_run_file,omitempty"`
	// Where the destination writes its own run report (used when run by the CloudQuery CLI; brazesync writes its own).
	ReportFile string `json:"report_file,omitempty"`
	// Fail the run when more rows than this are rejected (-1: never).
	MaxRejectedRows int64 `json:"max_rejected_rows,omitempty" jsonschema:"default=-1"`
}

// ParseSpec decodes a spec's JSON, refusing unknown fields, then applies defaults and validates.
func ParseSpec(specJSON []byte) (*Spec, error) {
	var s Spec
	if len(bytes.TrimSpace(specJSON)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(specJSON))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, errors.Join(errInvalidSpec, fmt.Errorf("decoding spec: %w", err))
		}
	}
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		return nil, errors.Join(errInvalidSpec, err)
	}
	return &s, nil
}

// SetDefaults fills every unset field with its documented default.
func (s *Spec) SetDefaults() {
	s.Config.SetDefaults()
	if s.ExportAttribute == nil {
		v := defaultExportAttribute
		s.ExportAttribute = &v
	}
	if s.ExportValue == "" {
		s.ExportValue = defaultExportValue
	}
	if s.UpdateExistingOnly == nil {
		v := true
		s.UpdateExistingOnly = &v
	}
	setInt(&s.BatchSize, maxObjectsPerRequest)
	setInt(&s.MaxRequestBytes, defaultMaxRequestBytes)
	setInt(&s.Concurrency, defaultConcurrency)
	setInt(&s.RateLimit, defaultRateLimit)
	setInt(&s.MaxAttempts, 8)
	if s.RateWindow == "" {
		s.RateWindow = defaultRateWindow.String()
	}
	if s.RequestTimeout == "" {
		s.RequestTimeout = "30s"
	}
	if s.DeadLetterFile == "" {
		s.DeadLetterFile = defaultDeadLetterFile
	}
	if s.DryRun && s.DryRunFile == "" {
		s.DryRunFile = "brazesync-dry-run.jsonl"
	}
	if s.MaxRejectedRows == 0 {
		s.MaxRejectedRows = -1
	}
}

func setInt(v *int, def int) {
	if *v == 0 {
		*v = def
	}
}

var attrName = regexp.MustCompile(`^[^$\s][^\s]{0,254}$`)

// Validate checks every field and names the one that is wrong. It does no I/O.
func (s *Spec) Validate() error {
	var errs []error
	if s.APIKey == "" {
		errs = append(errs, errors.New("api_key: required (use ${BRAZE_API_KEY})"))
	}
	if s.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: required, e.g. https://rest.iad-01.braze.com"))
	}
	if err := s.Config.Validate(); err != nil {
		errs = append(errs, err)
	}
	if *s.ExportAttribute != "" && !attrName.MatchString(*s.ExportAttribute) {
		errs = append(errs, fmt.Errorf("export_attribute: %q is not a valid attribute name", *s.ExportAttribute))
	}
	if s.BatchSize < 1 || s.BatchSize > maxObjectsPerRequest {
		errs = append(errs, fmt.Errorf("batch_size: %d is outside 1..%d (Braze's per-request cap)", s.BatchSize, maxObjectsPerRequest))
	}
	if s.MaxRequestBytes < 1024 {
		errs = append(errs, fmt.Errorf("max_request_bytes: %d is below 1024", s.MaxRequestBytes))
	}
	if s.Concurrency < 1 || s.Concurrency > 256 {
		errs = append(errs, fmt.Errorf("concurrency: %d is outside 1..256", s.Concurrency))
	}
	if s.MaxAttempts < 1 || s.MaxAttempts > 50 {
		errs = append(errs, fmt.Errorf("max_attempts: %d is outside 1..50", s.MaxAttempts))
	}
	for name, v := range map[string]string{"rate_window": s.RateWindow, "request_timeout": s.RequestTimeout} {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration such as 3s", name, v))
		}
	}
	return errors.Join(errs...)
}

func (s *Spec) rateWindow() time.Duration     { d, _ := time.ParseDuration(s.RateWindow); return d }
func (s *Spec) requestTimeout() time.Duration { d, _ := time.ParseDuration(s.RequestTimeout); return d }

// IsConfigError reports whether err comes from the spec or the column mapping: something the user
// must fix in configuration, known before any request was sent.
func IsConfigError(err error) bool {
	return errors.Is(err, errInvalidSpec) || errors.Is(err, errMapping)
}

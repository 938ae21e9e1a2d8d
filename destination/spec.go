package destination

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/schema"
)

// Braze limits and defaults, from docs/braze-api.md.
const (
	// maxObjectsPerRequest: /users/track takes at most 75 objects in total per request (§1.5).
	maxObjectsPerRequest = 75
	// maxObjectsMAU: "Monthly Active Users CY 24-25" contracts take at most 50 updates in total (§1.5).
	maxObjectsMAU = 50
	// defaultRateLimit per defaultRateWindow: the /users/track limit since 2024-10-28 (§1.6).
	defaultRateLimit  = 3000
	defaultRateWindow = 3 * time.Second
	// defaultMaxRequestBytes keeps each request far below any proxy's body limit; Braze documents none
	// for /users/track (§1.5), but 2 MB for its bulk sibling.
	defaultMaxRequestBytes = 1 << 20
	defaultConcurrency     = 16
	defaultExportAttribute = "looker_export" // the stock Looker action's (docs/looker.md §1)
	defaultExportValue     = "LOOKER_EXPORT"
	defaultDeadLetterFile  = "brazesync-dead-letter.jsonl"
	defaultDryRunFile      = "brazesync-dry-run.jsonl"
	// defaultStateDir is relative to the working directory, the way the CloudQuery CLI keeps .cq.
	defaultStateDir       = ".brazesync/state"
	defaultMaxAttempts    = 8
	defaultRequestTimeout = 30 * time.Second
)

// errInvalidSpec marks every spec problem, so callers can tell configuration errors apart.
var errInvalidSpec = errors.New("invalid braze destination spec")

// Batch regimes (docs/braze-api.md §1.5), selected by batch_regime.
const (
	// RegimeCurrent: 75 objects in total per request (the 2025-26 docs). The default.
	RegimeCurrent = "current"
	// RegimeMAU: 50 updates in total per request ("Monthly Active Users CY 24-25" contracts).
	RegimeMAU = "mau"
	// RegimeLegacy: 75 attributes + 75 events + 75 purchases per request. A brazesync request holds
	// one table's objects, so one of the three arrays: this allows 75 objects, like current.
	RegimeLegacy = "legacy"
)

// regimeCaps is the object cap of each regime.
var regimeCaps = map[string]int{RegimeCurrent: maxObjectsPerRequest, RegimeMAU: maxObjectsMAU, RegimeLegacy: maxObjectsPerRequest}

// ErrTooManyRejected is returned by Writer.Close when more rows were dead-lettered than
// max_rejected_rows or max_rejected_ratio allow: every row is accounted for, but the run failed.
var ErrTooManyRejected = errors.New("too many rejected rows")

// errMapping marks a table whose columns cannot be mapped to Braze (no key column, ambiguity, ...).
var errMapping = errors.New("invalid column mapping")

// Spec is the braze destination's `spec:` block. Unknown fields are an error.
type Spec struct {
	// Braze REST API key with the users.track permission. Use ${BRAZE_API_KEY}; it never appears in logs or reports.
	APIKey string `json:"api_key" jsonschema:"required,minLength=1"`
	// REST endpoint of your Braze instance, e.g. https://rest.iad-01.braze.com (docs/braze-api.md §6).
	Endpoint string `json:"endpoint" jsonschema:"required,minLength=1"`
	// Send the API key to a host that is not a published Braze REST host.
	AllowCustomEndpoint bool `json:"allow_custom_endpoint,omitempty"`

	schema.Config
	TableKinds // tables sent as events or purchases (tablekinds.go)

	// Custom attribute array that flags exported users ("looker_export" as the stock Looker action). Empty string disables the flag.
	ExportAttribute *string `json:"export_attribute,omitempty"`
	// Value added to the export attribute array.
	ExportValue string `json:"export_value,omitempty"`
	// Only update users that already exist in Braze (the stock action's behaviour).
	UpdateExistingOnly *bool `json:"update_existing_only,omitempty"`

	// Per-request object limit of your contract: current (75 in total), mau (50 in total, "Monthly
	// Active Users CY 24-25"), legacy (75 per array).
	BatchRegime string `json:"batch_regime,omitempty" jsonschema:"enum=current,enum=mau,enum=legacy"`
	// Objects per /users/track request: the regime's cap by default, never above it.
	BatchSize int `json:"batch_size,omitempty" jsonschema:"minimum=1,maximum=75"`
	// Largest request body in bytes.
	MaxRequestBytes int `json:"max_request_bytes,omitempty" jsonschema:"minimum=1024"`
	// Requests in flight at once.
	Concurrency int `json:"concurrency,omitempty" jsonschema:"minimum=1,maximum=256"`
	// Requests allowed per rate_window for the workspace; -1 disables client-side pacing.
	RateLimit int `json:"rate_limit,omitempty"`
	// Length of the rate-limit window, as a Go duration.
	RateWindow string `json:"rate_window,omitempty"`
	// Tries per request before its rows are dead-lettered.
	MaxAttempts int `json:"max_attempts,omitempty" jsonschema:"minimum=1,maximum=50"`
	// Timeout of one HTTP attempt, as a Go duration.
	RequestTimeout string `json:"request_timeout,omitempty"`

	// JSONL file that receives every rejected row with its reason.
	DeadLetterFile string `json:"dead_letter_file,omitempty"`
	// Build every request and write the payloads to dry_run_file; send nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// File that receives the payloads of a dry run.
	DryRunFile string `json:"dry_run_file,omitempty"`
	// Where the destination writes its own run report (used when run by the CloudQuery CLI; brazesync writes its own).
	ReportFile string `json:"report_file,omitempty"`
	// Fail the run (every row still accounted for) when more rows than this are dead-lettered.
	// Unset or -1: no limit; 0: any rejection fails the run.
	MaxRejectedRows *int64 `json:"max_rejected_rows,omitempty" jsonschema:"minimum=-1"`
	// Fail the run when dead-lettered rows exceed this share of the rows read (0 to 1). Unset: no limit.
	MaxRejectedRatio *float64 `json:"max_rejected_ratio,omitempty" jsonschema:"minimum=0,maximum=1"`

	// Folder of the sync state: what Braze was last told per user (key, attribute hashes, flag;
	// never values or the API key), so a run sends only what changed (docs/state.md). Default
	// .brazesync/state, relative to the working directory. One run at a time per folder.
	StateDir string `json:"state_dir,omitempty"`
	// Diff each row against the state (default true). false keeps no state at all: every run sends
	// every attribute and the flag, and state_dir is not used.
	Diff *bool `json:"diff,omitempty"`
	// Re-send attributes (and the export flag) last sent longer ago than this Go duration (e.g.
	// 720h), so edits made in Braze behind brazesync's back heal. Unset or 0: never.
	RefreshAfter string `json:"refresh_after,omitempty"`
	// Send every attribute and the flag this run, as if there were no state, and rewrite the state
	// of every user sent (`brazesync sync --full-refresh` sets it).
	FullRefresh bool `json:"full_refresh,omitempty"`
	// Where the state lives: state_dir alone (backend local), or Snowflake, for workers that keep no
	// disk between runs (docs/state-snowflake.md).
	State StateSpec `json:"state,omitempty"`

	// Mirror mode (write_mode overwrite-delete-stale, docs/mirror.md): what a user who left the
	// query loses: unflag (only export_value is removed from export_attribute) or unset (also every
	// attribute the table sent them is set to null).
	OnLeave string `json:"on_leave,omitempty" jsonschema:"enum=unflag,enum=unset"`
	// Mirror mode: when more than this share (0 to 1) of the users flagged before the run would
	// lose the label, remove none and fail the run. Default 0.5.
	MaxRemovalRatio *float64 `json:"max_removal_ratio,omitempty" jsonschema:"minimum=0,maximum=1"`
	// Mirror mode: lift max_removal_ratio for this run only (`brazesync sync --allow-mass-removal`
	// sets it; under the CloudQuery CLI set it for one run and take it out again).
	AllowMassRemoval bool `json:"allow_mass_removal,omitempty"`
	// Mirror mode: what happens to a label this destination and table flagged users with before
	// export_value (or export_attribute) changed: remove_old (removed from everyone who still
	// carries it, then forgotten) or keep_old (left on them, as append does).
	OnLabelChange string `json:"on_label_change,omitempty" jsonschema:"enum=remove_old,enum=keep_old"`
	// Mirror mode is on (write_mode overwrite-delete-stale): `brazesync sync` sets it. Under the
	// CloudQuery CLI set it yourself with state.backend snowflake: the Snowflake source then reads
	// every row instead of holding unchanged users back, who would otherwise look departed.
	Mirror bool `json:"mirror,omitempty"`
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
		if dec.More() {
			return nil, errors.Join(errInvalidSpec, errors.New("decoding spec: data after the spec object"))
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
	s.TableKinds.setDefaults()
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
	if s.BatchRegime == "" {
		s.BatchRegime = RegimeCurrent
	}
	if c, ok := regimeCaps[s.BatchRegime]; ok {
		setInt(&s.BatchSize, c)
	}
	setInt(&s.MaxRequestBytes, defaultMaxRequestBytes)
	setInt(&s.Concurrency, defaultConcurrency)
	setInt(&s.RateLimit, defaultRateLimit)
	setInt(&s.MaxAttempts, defaultMaxAttempts)
	if s.RateWindow == "" {
		s.RateWindow = defaultRateWindow.String()
	}
	if s.RequestTimeout == "" {
		s.RequestTimeout = defaultRequestTimeout.String()
	}
	if s.DeadLetterFile == "" {
		s.DeadLetterFile = defaultDeadLetterFile
	}
	if s.DryRun && s.DryRunFile == "" {
		s.DryRunFile = defaultDryRunFile
	}
	if s.StateDir == "" {
		s.StateDir = defaultStateDir
	}
	if s.Diff == nil {
		v := true
		s.Diff = &v
	}
	s.State.SetDefaults()
	s.setMirrorDefaults()
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
	if err := s.TableKinds.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := s.State.validate(*s.Diff); err != nil {
		errs = append(errs, err)
	}
	if *s.ExportAttribute != "" && !attrName.MatchString(*s.ExportAttribute) {
		errs = append(errs, fmt.Errorf("export_attribute: %q is not a valid attribute name", *s.ExportAttribute))
	}
	if c, ok := regimeCaps[s.BatchRegime]; !ok {
		errs = append(errs, fmt.Errorf("batch_regime: %q is not one of current, mau, legacy", s.BatchRegime))
	} else if s.BatchSize < 1 || s.BatchSize > c {
		errs = append(errs, fmt.Errorf("batch_size: %d is outside 1..%d (Braze's per-request cap for batch_regime %s)", s.BatchSize, c, s.BatchRegime))
	}
	if s.ExportValue == "" || len([]rune(s.ExportValue)) > schema.MaxStringChars {
		errs = append(errs, fmt.Errorf("export_value: must be 1..%d characters", schema.MaxStringChars))
	}
	if s.RateLimit < -1 {
		errs = append(errs, fmt.Errorf("rate_limit: %d is neither -1 (no client-side pacing) nor positive", s.RateLimit))
	}
	if s.MaxRejectedRows != nil && *s.MaxRejectedRows < -1 {
		errs = append(errs, fmt.Errorf("max_rejected_rows: %d is below -1", *s.MaxRejectedRows))
	}
	if r := s.MaxRejectedRatio; r != nil && (*r < 0 || *r > 1 || *r != *r) {
		errs = append(errs, fmt.Errorf("max_rejected_ratio: %v is outside 0..1", *r))
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
	for _, f := range []struct{ name, v string }{{"rate_window", s.RateWindow}, {"request_timeout", s.RequestTimeout}} {
		if d, err := time.ParseDuration(f.v); err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration such as 3s", f.name, f.v))
		}
	}
	if s.DeadLetterFile == "" {
		errs = append(errs, errors.New("dead_letter_file: empty"))
	}
	if err := s.validateState(); err != nil {
		errs = append(errs, err)
	}
	if err := s.validateMirror(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Spec) rateWindow() time.Duration     { d, _ := time.ParseDuration(s.RateWindow); return d }
func (s *Spec) requestTimeout() time.Duration { d, _ := time.ParseDuration(s.RequestTimeout); return d }

// refreshAfter is refresh_after as a duration; 0 when unset.
func (s *Spec) refreshAfter() time.Duration {
	if s.RefreshAfter == "" {
		return 0
	}
	d, _ := time.ParseDuration(s.RefreshAfter)
	return d
}

// validateState checks the state fields.
func (s *Spec) validateState() error {
	if s.RefreshAfter != "" {
		if d, err := time.ParseDuration(s.RefreshAfter); err != nil || d < 0 {
			return fmt.Errorf("refresh_after: %q is not a duration such as 720h (or 0 for never)", s.RefreshAfter)
		} else if d > 0 && d < time.Second {
			return fmt.Errorf("refresh_after: %q is below 1s, which would re-send everything every run", s.RefreshAfter)
		}
	}
	return nil
}

// checkRejections returns ErrTooManyRejected when the report's rejections exceed the limits.
func (s *Spec) checkRejections(rep *report.Report) error {
	n := rep.Rejected()
	if s.MaxRejectedRows != nil && *s.MaxRejectedRows >= 0 && n > *s.MaxRejectedRows {
		return fmt.Errorf("%w: %d rows dead-lettered, more than max_rejected_rows %d", ErrTooManyRejected, n, *s.MaxRejectedRows)
	}
	if s.MaxRejectedRatio != nil && rep.RowsRead > 0 {
		if ratio := float64(n) / float64(rep.RowsRead); ratio > *s.MaxRejectedRatio {
			return fmt.Errorf("%w: %d of %d rows dead-lettered (%.4f), more than max_rejected_ratio %v",
				ErrTooManyRejected, n, rep.RowsRead, ratio, *s.MaxRejectedRatio)
		}
	}
	return nil
}

// IsConfigError reports whether err comes from the spec or the column mapping: something the user
// must fix in configuration, known before any request was sent.
func IsConfigError(err error) bool {
	return errors.Is(err, errInvalidSpec) || errors.Is(err, errMapping) || errors.Is(err, errStateUnusable)
}

// errStateUnusable marks a state folder that cannot be used (held by another run, damaged, newer):
// like configuration, the user must act before any request is sent.
var errStateUnusable = errors.New("state folder unusable")

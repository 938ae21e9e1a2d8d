// Package report holds the run report: the account of every row a sync read and what became of it.
//
// The numbers must add up: RowsRead = UsersSent + RowsMerged + skipped + rejected (+ RowsUnaccounted
// when a run died with rows in flight). Orchestrators read the JSON file; people read Summary.
package report

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/brazesync/brazesync/destination/privatefile"
)

// Status values of a run.
const (
	StatusRunning   = "running"
	StatusSuccess   = "success"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Report is the JSON run report. Field names are part of the product's interface: keep them stable.
type Report struct {
	RunID      string    `json:"run_id,omitempty"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitempty"`
	// DurationSeconds is FinishedAt-StartedAt (or the time so far while running).
	DurationSeconds float64 `json:"duration_seconds"`

	RowsRead int64 `json:"rows_read"`
	// UsersSent counts attribute objects Braze accepted (one per delivered row).
	UsersSent int64 `json:"users_sent"`
	// RowsMerged counts rows folded into another row for the same user in the same request.
	RowsMerged int64 `json:"rows_merged"`
	// Event and purchase tables (docs/events.md): the objects Braze accepted, one row each; the
	// requests holding them whose outcome was ambiguous (an answer that never came back, a 5xx),
	// and the rows of those requests: dead-lettered as braze_may_have_recorded under
	// on_ambiguous_failure: dead_letter, sent again (and possibly recorded twice) under retry.
	EventsSent        int64 `json:"events_sent,omitempty"`
	PurchasesSent     int64 `json:"purchases_sent,omitempty"`
	AmbiguousRequests int64 `json:"ambiguous_requests,omitempty"`
	AmbiguousRows     int64 `json:"ambiguous_rows,omitempty"`
	// RowsSkipped counts rows not sent on purpose, by reason (null_key, empty_key, ...).
	RowsSkipped map[string]int64 `json:"rows_skipped"`
	// RowsRejected counts rows written to the dead-letter file, by reason.
	RowsRejected map[string]int64 `json:"rows_rejected"`
	// RowsUnchanged counts rows with nothing Braze did not already hold (sync state): not sent.
	RowsUnchanged int64 `json:"rows_unchanged"`
	// RowsUnaccounted is set only when a run died with rows in flight whose fate is unknown.
	RowsUnaccounted int64 `json:"rows_unaccounted,omitempty"`
	// RowsNotRead counts rows a source produced for this destination that it never read because the
	// run ended early (the destination failed or died): set by the runner, outside RowsRead.
	RowsNotRead int64 `json:"rows_not_read,omitempty"`
	// NestedNullsDropped counts nulls left out inside the values sent (list elements, struct fields,
	// map items, JSON members and elements): objects replace the stored ones, so a null member means
	// what an absent one does.
	NestedNullsDropped int64 `json:"nested_nulls_dropped,omitempty"`

	Requests    int64            `json:"requests"`
	Retries     int64            `json:"retries"`
	RateLimited int64            `json:"rate_limited"`
	MinorErrors map[string]int64 `json:"minor_errors,omitempty"`
	BytesSent   int64            `json:"bytes_sent"`
	// EstimatedDataPoints counts attribute writes sent (Braze bills each, changed or not).
	EstimatedDataPoints int64 `json:"estimated_data_points"`
	// AttributesUnchanged counts attributes left out of objects because Braze already held the
	// value; DataPointsSaved those plus the export flags not re-sent: the writes the diff saved.
	AttributesUnchanged int64   `json:"attributes_unchanged"`
	DataPointsSaved     int64   `json:"data_points_saved"`
	RowsPerSecond       float64 `json:"rows_per_second"`

	// StateDir is the sync state's folder, StateBytes its size on disk at the end of the run.
	StateDir   string `json:"state_dir,omitempty"`
	StateBytes uint64 `json:"state_bytes,omitempty"`
	// With the warehouse state (state.backend snowflake): the user records the local copy took
	// from the warehouse at the start, those the run uploaded at the end, and the warehouse
	// state's version after the run.
	StateImported int64  `json:"state_records_imported,omitempty"`
	StateUploaded int64  `json:"state_records_uploaded,omitempty"`
	StateVersion  uint64 `json:"state_version,omitempty"`

	// Mirror mode (docs/mirror.md), outside the rows-read balance: removal objects Braze accepted
	// (UsersRemoved); those a dry run wrote to dry_run_file instead (RemovalsPlanned); users not
	// sent a removal because a guard refused it, by guard (RemovalsRefused); removal objects Braze
	// did not apply, dead-lettered, by reason (RemovalsRejected).
	UsersRemoved     int64            `json:"users_removed"`
	RemovalsPlanned  int64            `json:"removals_planned,omitempty"`
	RemovalsRefused  map[string]int64 `json:"removals_refused,omitempty"`
	RemovalsRejected map[string]int64 `json:"removals_rejected,omitempty"`
	// Phase is "removing" while mirror mode sends its removals, RemovalsQueued how many it will
	// send: what the progress line shows.
	Phase          string `json:"phase,omitempty"`
	RemovalsQueued int64  `json:"removals_queued,omitempty"`

	DeadLetterFile string   `json:"dead_letter_file,omitempty"`
	DryRun         bool     `json:"dry_run,omitempty"`
	DryRunFile     string   `json:"dry_run_file,omitempty"`
	Notes          []string `json:"notes,omitempty"`
}

// New returns an empty running report.
func New(runID string, started time.Time) *Report {
	return &Report{
		RunID:        runID,
		Status:       StatusRunning,
		StartedAt:    started.UTC(),
		RowsSkipped:  map[string]int64{},
		RowsRejected: map[string]int64{},
		MinorErrors:  map[string]int64{},
	}
}

// Skipped is the total of RowsSkipped.
func (r *Report) Skipped() int64 { return sum(r.RowsSkipped) }

// Rejected is the total of RowsRejected.
func (r *Report) Rejected() int64 { return sum(r.RowsRejected) }

// Accounted is every row whose fate is known.
func (r *Report) Accounted() int64 {
	return r.UsersSent + r.EventsSent + r.PurchasesSent + r.RowsMerged + r.RowsUnchanged + r.Skipped() + r.Rejected()
}

// Balanced reports whether every row read is accounted for.
func (r *Report) Balanced() bool { return r.RowsRead == r.Accounted()+r.RowsUnaccounted }

// Finish stamps the end of the run and derives duration and throughput.
func (r *Report) Finish(status string, err error, now time.Time) {
	r.Status = status
	if err != nil {
		r.Error = err.Error()
	}
	r.FinishedAt = now.UTC()
	r.derive(now)
}

func (r *Report) derive(now time.Time) {
	d := now.Sub(r.StartedAt).Seconds()
	if d <= 0 {
		return
	}
	r.DurationSeconds = d
	r.RowsPerSecond = float64(r.RowsRead) / d
}

// WriteFile writes the report as indented JSON, atomically.
func (r *Report) WriteFile(path string) error { return WriteJSONFile(path, r) }

// WriteJSONFile writes v as indented JSON atomically (a temp file and a rename, so that an
// orchestrator never reads half a report), readable by its owner only, replacing rather than
// following a symlink at path.
func WriteJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	if err := privatefile.WriteAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

// Summary renders the report for people, one fact a line.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "brazesync run %s: %s", r.RunID, r.Status)
	if r.DryRun {
		b.WriteString(" (dry run: nothing sent)")
	}
	b.WriteString("\n")
	if r.Error != "" {
		fmt.Fprintf(&b, "  error:          %s\n", r.Error)
	}
	fmt.Fprintf(&b, "  rows read:      %d\n", r.RowsRead)
	fmt.Fprintf(&b, "  users sent:     %d\n", r.UsersSent)
	r.eventSummary(&b)
	if r.RowsMerged > 0 {
		fmt.Fprintf(&b, "  rows merged:    %d (same user, same request)\n", r.RowsMerged)
	}
	if r.RowsUnchanged > 0 || r.StateDir != "" {
		fmt.Fprintf(&b, "  rows unchanged: %d (Braze already holds every value: not sent)\n", r.RowsUnchanged)
	}
	fmt.Fprintf(&b, "  rows skipped:   %d%s\n", r.Skipped(), byReason(r.RowsSkipped))
	fmt.Fprintf(&b, "  rows rejected:  %d%s\n", r.Rejected(), byReason(r.RowsRejected))
	if r.RowsUnaccounted > 0 {
		fmt.Fprintf(&b, "  rows in flight when the run died (fate unknown): %d\n", r.RowsUnaccounted)
	}
	if r.RowsNotRead > 0 {
		fmt.Fprintf(&b, "  rows not read:  %d (produced by a source after the destination stopped)\n", r.RowsNotRead)
	}
	if r.NestedNullsDropped > 0 {
		fmt.Fprintf(&b, "  nested nulls:   %d left out of objects and arrays\n", r.NestedNullsDropped)
	}
	fmt.Fprintf(&b, "  requests:       %d (retries %d, rate limited %d)\n", r.Requests, r.Retries, r.RateLimited)
	if len(r.MinorErrors) > 0 {
		fmt.Fprintf(&b, "  minor errors:   %d%s\n", sum(r.MinorErrors), byReason(r.MinorErrors))
	}
	fmt.Fprintf(&b, "  bytes sent:     %d, estimated data points: %d\n", r.BytesSent, r.EstimatedDataPoints)
	if r.AttributesUnchanged > 0 || r.DataPointsSaved > 0 {
		fmt.Fprintf(&b, "  diff:           %d attributes unchanged, %d data points saved\n", r.AttributesUnchanged, r.DataPointsSaved)
	}
	if r.StateDir != "" {
		fmt.Fprintf(&b, "  state:          %s (%s on disk)\n", r.StateDir, ByteSize(r.StateBytes))
	}
	r.removalSummary(&b)
	fmt.Fprintf(&b, "  duration:       %.2fs (%.0f rows/s)\n", r.DurationSeconds, r.RowsPerSecond)
	if r.DeadLetterFile != "" && r.Rejected() > 0 {
		fmt.Fprintf(&b, "  dead letters:   %s\n", r.DeadLetterFile)
	}
	if r.DryRunFile != "" {
		fmt.Fprintf(&b, "  payloads:       %s\n", r.DryRunFile)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note:           %s\n", n)
	}
	if !r.Balanced() {
		fmt.Fprintf(&b, "  WARNING: rows read (%d) != rows accounted (%d)\n", r.RowsRead, r.Accounted())
	}
	return b.String()
}

// Merge adds the counts of o into r (used to combine several destinations' or tables' reports).
func (r *Report) Merge(o *Report) {
	r.RowsRead += o.RowsRead
	r.UsersSent += o.UsersSent
	r.RowsMerged += o.RowsMerged
	r.RowsUnaccounted += o.RowsUnaccounted
	r.RowsUnchanged += o.RowsUnchanged
	r.AttributesUnchanged += o.AttributesUnchanged
	r.DataPointsSaved += o.DataPointsSaved
	switch {
	case o.StateDir == "":
	case r.StateDir == "" || r.StateDir == o.StateDir: // destinations sharing a folder report its one size
		r.StateDir, r.StateBytes = o.StateDir, max(r.StateBytes, o.StateBytes)
	default:
		r.StateDir += ", " + o.StateDir
		r.StateBytes += o.StateBytes
	}
	r.RowsNotRead += o.RowsNotRead
	r.NestedNullsDropped += o.NestedNullsDropped
	r.Requests += o.Requests
	r.Retries += o.Retries
	r.RateLimited += o.RateLimited
	r.BytesSent += o.BytesSent
	r.EstimatedDataPoints += o.EstimatedDataPoints
	addAll(r.RowsSkipped, o.RowsSkipped)
	addAll(r.RowsRejected, o.RowsRejected)
	addAll(r.MinorErrors, o.MinorErrors)
	r.mergeRemovals(o)
	r.mergeEvents(o)
}

// ByteSize renders n bytes for people: 512 B, 3.4 MB.
func ByteSize(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func addAll(dst, src map[string]int64) {
	for k, v := range src {
		dst[k] += v
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func byReason(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

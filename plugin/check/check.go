// Package check is `brazesync check`: every check of a sync spec that can run without changing a
// Braze profile. Each check prints one pass/warn/fail line with the fix, so a data team can tell a
// wrong key from a wrong host from a Look that cannot map before the first real run.
//
// What is checked, in order (docs/troubleshooting.md maps each line to its symptoms):
//
//   - spec: the spec files load and every destination's spec is valid;
//   - endpoint: a published Braze REST host over https (or loopback, the emulators);
//   - api key and users.track: an empty POST /users/track, which Braze refuses without writing
//     anything: 400 means the key is good and allowed users.track, 401 an unknown key (with a hint
//     about the instance), 403 a key without users.track;
//   - test user (optional, --test-user): the user exists, via POST /users/export/ids;
//   - export attribute: its data type via GET /custom_attributes, when the key may read it;
//   - per source: the plugin starts and connects, and its tables are listed through the CloudQuery
//     protocol (describe-only: no query result is read for Snowflake);
//   - per table and destination: exactly one key column, the mapped/ignored/ambiguous attributes,
//     attribute names (standard fields recognised), and no pivoted columns (Looker).
package check

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/runner"
)

// Status is the outcome of one check.
type Status string

// Outcomes. A skip is a check that could not run because an earlier one failed.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Line is one printed check.
type Line struct {
	Status Status `json:"status"`
	Name   string `json:"check"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Exit codes of `brazesync check`.
const (
	ExitOK     = 0 // every check passed or warned
	ExitFailed = 1 // at least one check failed
	ExitConfig = 2 // bad flags or spec files that cannot be read
)

// Options configure a check.
type Options struct {
	SpecFiles []string
	// TestUser is a user that must exist in the workspace, identified as the destination's
	// user_key says (external_id by default). Empty: not checked.
	TestUser string
	Log      zerolog.Logger
	// Timeout bounds each network step (default 60 s).
	Timeout time.Duration
	// HTTPClient is used for every Braze call (the key check, export, custom attributes); nil for
	// a default one. Redirects are never followed either way.
	HTTPClient *http.Client
}

// Result is every line of a check.
type Result struct {
	Lines []Line `json:"checks"`
	// SpecInvalid is set when the spec files could not be loaded at all.
	SpecInvalid bool `json:"-"`
}

// Count returns how many lines have status s.
func (r *Result) Count(s Status) int {
	n := 0
	for _, l := range r.Lines {
		if l.Status == s {
			n++
		}
	}
	return n
}

// ExitCode is 0 when nothing failed, 2 when the spec could not be loaded, else 1.
func (r *Result) ExitCode() int {
	switch {
	case r.SpecInvalid:
		return ExitConfig
	case r.Count(Fail) > 0:
		return ExitFailed
	}
	return ExitOK
}

// Find returns the first line whose name is name.
func (r *Result) Find(name string) (Line, bool) {
	for _, l := range r.Lines {
		if l.Name == name {
			return l, true
		}
	}
	return Line{}, false
}

func (r *Result) add(s Status, name, detail, fix string) {
	r.Lines = append(r.Lines, Line{Status: s, Name: name, Detail: detail, Fix: fix})
}

// Print writes the lines, one per check, with the fix under each warning or failure.
func (r *Result) Print(w io.Writer) {
	width := 0
	for _, l := range r.Lines {
		width = max(width, len(l.Name))
	}
	for _, l := range r.Lines {
		fmt.Fprintf(w, "%-4s  %-*s  %s\n", l.Status, width, l.Name, l.Detail)
		if l.Fix != "" && (l.Status == Fail || l.Status == Warn) {
			fmt.Fprintf(w, "      %-*s  fix: %s\n", width, "", l.Fix)
		}
	}
	fmt.Fprintf(w, "\n%d passed, %d warnings, %d failed, %d skipped\n", r.Count(Pass), r.Count(Warn), r.Count(Fail), r.Count(Skip))
}

// Run performs every check. It never sends a profile update: the only /users/track request is an
// empty body, which Braze refuses.
func Run(ctx context.Context, opts Options) *Result {
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	r := &Result{}
	spec, err := runner.LoadSpecFiles(opts.SpecFiles...)
	if err != nil {
		r.SpecInvalid = true
		r.add(Fail, "spec", oneLine(err), "fix the spec file as the message says; every field is in docs/configuration.md")
		return r
	}
	r.add(Pass, "spec", fmt.Sprintf("%d source(s), %d destination(s)", len(spec.Sources), len(spec.Destinations)), "")
	dests := map[string]*destination.Spec{}
	for _, d := range spec.Destinations {
		ds := checkDestinationSpec(r, d)
		if ds != nil {
			dests[d.Name] = ds
			checkBraze(ctx, r, opts, d.Name, ds)
			checkState(ctx, r, d.Name, ds)
			checkWarehouseState(ctx, r, d.Name, ds)
			checkMirror(r, d, ds)
		}
	}
	for _, src := range spec.Sources {
		checkSource(ctx, r, opts, src, dests)
	}
	return r
}

// checkDestinationSpec parses a destination's spec as the plugin will; nil when it is invalid.
func checkDestinationSpec(r *Result, d *runner.DestinationSpec) *destination.Spec {
	name := d.Name + ": spec"
	raw, err := runner.SpecJSON(d.Spec)
	if err == nil {
		var ds *destination.Spec
		if ds, err = destination.ParseSpec(raw); err == nil {
			r.add(Pass, name, fmt.Sprintf("destination spec valid (user_key %s, export %s)", ds.UserKey, exportDesc(ds)), "")
			return ds
		}
	}
	r.add(Fail, name, oneLine(err), "fix the destination's spec: block; its fields are in docs/configuration.md#braze-destination")
	return nil
}

func exportDesc(ds *destination.Spec) string {
	if *ds.ExportAttribute == "" {
		return "flag disabled"
	}
	return fmt.Sprintf("%s += %q", *ds.ExportAttribute, ds.ExportValue)
}

// oneLine joins a multi-line error (errors.Join) into one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

package actionhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/plugin/runner"
	"github.com/brazesync/brazesync/schema"
)

// destinationName names the hub's destination in messages and in the plugin's log lines.
const destinationName = "braze"

// DestinationOptions are hub-wide settings of the Braze destination each execution runs.
type DestinationOptions struct {
	// CreateUsers sends _update_existing_only:false (the stock action never creates users).
	CreateUsers bool
	// LongStrings is reject (default: dead-letter the row) or truncate.
	LongStrings string
	// Concurrency and RateLimit override the destination defaults when > 0.
	Concurrency int
	RateLimit   int
	// MaxAttempts bounds tries per Braze request when > 0.
	MaxAttempts int
}

// destinationSpec is the braze-destination spec of one execution: the one place where an
// execution's settings become destination settings.
//
// Without mirror mode it keeps no sync state (diff: false): like the stock action, every execution
// sends every row and the label, and executions running at once need no shared state folder. With
// it (the form's braze_mirror) the spec keeps a state folder per label under --state-dir (mirror.go).
func (s *Server) destinationSpec(req *request, runID string) *destination.Spec {
	o := s.cfg.Destination
	updateOnly, diff := !o.CreateUsers, false
	return s.mirrorSpec(req, &destination.Spec{
		Diff:                &diff,
		APIKey:              req.apiKey,
		Endpoint:            req.endpoint,
		AllowCustomEndpoint: req.customEndpoint,
		Config:              schema.Config{UserKey: req.userKey, LongStrings: o.LongStrings},
		ExportValue:         req.exportLabel,
		UpdateExistingOnly:  &updateOnly,
		Concurrency:         o.Concurrency,
		RateLimit:           o.RateLimit,
		MaxAttempts:         o.MaxAttempts,
		DeadLetterFile:      s.path(runID + ".dead-letter.jsonl"),
	})
}

// checkDestinationOptions validates the hub-wide options once, at start, on a sample execution.
func (s *Server) checkDestinationOptions() error {
	spec := s.destinationSpec(&request{apiKey: "k", endpoint: "https://rest.iad-01.braze.com",
		userKey: "external_id", exportLabel: defaultExportLabel}, "check")
	spec.SetDefaults()
	if err := spec.Validate(); err != nil {
		return fmt.Errorf("checking the destination options: %w", err)
	}
	return nil
}

// launch starts the execution's destination process and waits until Braze accepted the key: only
// then may the one-time download_url be consumed.
func (s *Server) launch(ctx context.Context, runID string, req *request, log zerologLogger) (*runner.Destination, error) {
	specJSON, err := json.Marshal(s.destinationSpec(req, runID))
	if err != nil {
		return nil, fmt.Errorf("encoding the destination spec: %w", err)
	}
	d, err := runner.LaunchDestination(ctx, runner.LaunchOptions{
		Path: s.cfg.DestinationPath, Name: destinationName, RunID: runID, SpecJSON: specJSON, Log: log,
	})
	if err != nil {
		return nil, launchError(err)
	}
	return d, nil
}

// launchError says what failed before anything was downloaded, so the Look can simply be sent again
// once it is fixed.
func launchError(err error) error {
	const untouched = "nothing was downloaded from Looker"
	switch {
	case errors.Is(err, runner.ErrDestinationAuth):
		return fmt.Errorf("Braze refused the API key; %s: %w", untouched, err)
	case errors.Is(err, runner.ErrUnavailable):
		return fmt.Errorf("Braze could not be reached; %s: %w", untouched, err)
	case errors.Is(err, runner.ErrConfig):
		return fmt.Errorf("The Braze settings are invalid; %s: %w", untouched, err)
	}
	return fmt.Errorf("The Braze writer could not start; %s: %w", untouched, err)
}

// locateDestination defaults the destination path to the braze-destination beside the running
// executable (where `make build` and the release archives put it) and checks the binary is there,
// so a hub that cannot write fails at start rather than on Looker's first execution.
func (c *Config) locateDestination() error {
	if c.DestinationPath == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("locating the running executable: %w", err)
		}
		c.DestinationPath = filepath.Join(filepath.Dir(exe), "braze-destination")
	}
	if _, err := os.Stat(c.DestinationPath); err != nil {
		return fmt.Errorf("finding the destination binary (build it, or set --destination-path): %w", err)
	}
	return nil
}

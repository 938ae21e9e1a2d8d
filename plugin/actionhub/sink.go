package actionhub

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/rs/zerolog"

	"github.com/brazesync/brazesync/destination"
	"github.com/brazesync/brazesync/destination/report"
	"github.com/brazesync/brazesync/schema"
)

// Sink receives one execution's records and delivers them to Braze.
type Sink interface {
	Write(ctx context.Context, rec arrow.Record) error
	Close(ctx context.Context) (*report.Report, error)
}

// SinkConfig is what one execution asks of its sink.
type SinkConfig struct {
	RunID       string
	APIKey      string
	Endpoint    string
	UserKey     string // external_id or braze_id
	ExportLabel string // added to looker_export
	// CustomEndpoint is set when the endpoint is an allowed non-Braze host.
	CustomEndpoint bool
	DeadLetterFile string
}

// SinkFactory opens a sink for one execution.
type SinkFactory func(ctx context.Context, cfg SinkConfig, log zerolog.Logger) (Sink, error)

// DestinationOptions are hub-wide settings for the Braze destination.
type DestinationOptions struct {
	// CreateUsers sends _update_existing_only:false (the stock action never
	// creates users).
	CreateUsers bool
	// LongStrings is reject (default: dead-letter the row) or truncate.
	LongStrings string
	// Concurrency and RateLimit override the destination defaults when > 0.
	Concurrency int
	RateLimit   int
	// MaxAttempts bounds tries per Braze request when > 0.
	MaxAttempts int
}

// DestinationSink returns a factory backed by the brazesync destination's
// in-process Writer: the same mapping, batching, rate limiting, retries and
// dead-lettering as `brazesync sync`.
func DestinationSink(o DestinationOptions) SinkFactory {
	return func(ctx context.Context, cfg SinkConfig, log zerolog.Logger) (Sink, error) {
		updateOnly := !o.CreateUsers
		spec := &destination.Spec{
			APIKey:              cfg.APIKey,
			Endpoint:            cfg.Endpoint,
			AllowCustomEndpoint: cfg.CustomEndpoint,
			Config:              schema.Config{UserKey: cfg.UserKey, LongStrings: o.LongStrings},
			ExportValue:         cfg.ExportLabel,
			UpdateExistingOnly:  &updateOnly,
			Concurrency:         o.Concurrency,
			RateLimit:           o.RateLimit,
			MaxAttempts:         o.MaxAttempts,
			DeadLetterFile:      cfg.DeadLetterFile,
		}
		spec.SetDefaults()
		if err := spec.Validate(); err != nil {
			return nil, fmt.Errorf("building destination spec: %w", err)
		}
		w, err := destination.NewWriter(ctx, spec, log, destination.WithRunID(cfg.RunID))
		if err != nil {
			return nil, err
		}
		return w, nil
	}
}

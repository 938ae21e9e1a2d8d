package actionhub

import (
	"fmt"
	"time"

	"github.com/brazesync/brazesync/source/looker"
)

// Limits bound what one execution may hold and how long it may wait, whatever Looker (or whoever
// holds a valid token) sends. A zero field takes its default.
type Limits struct {
	// QueueWait bounds the wait for an execution slot; the execution then fails as busy, and its body
	// (so its download_url) is never read.
	QueueWait time.Duration
	// MaxQueued bounds the executions waiting for a slot at once; one more fails as busy at once.
	MaxQueued int
	// MaxBodyBytes bounds the execute request body, read only once a slot is free. With "url"
	// delivery the body is a few kilobytes; an inline attachment counts in full.
	MaxBodyBytes int64
	// MaxDownloadBytes bounds the bytes read from one download_url.
	MaxDownloadBytes int64
	// DownloadIdleTimeout bounds the time without a byte from the download_url (the wait for its
	// first byte included: Looker runs the query first), and any pause in the execute body.
	DownloadIdleTimeout time.Duration
	// DownloadTimeout bounds one download from request to last byte.
	DownloadTimeout time.Duration
	// MaxRowBytes bounds one json_detail row, so any one value in it.
	MaxRowBytes int
	// MaxHeaderBytes bounds each json_detail section read whole ("fields", "pivots", ...).
	MaxHeaderBytes int
	// MaxColumns bounds the columns a result may have (pivots multiply them).
	MaxColumns int
}

// Default limits. The download ones follow Looker's download_url, valid for an hour after the
// schedule ran; the size ones are far above what a Look with drill links produces.
const (
	defaultQueueWait           = 5 * time.Minute
	defaultMaxQueued           = 64
	defaultMaxBodyBytes        = 32 << 20
	defaultMaxDownloadBytes    = 8 << 30
	defaultDownloadIdleTimeout = 5 * time.Minute
	defaultDownloadTimeout     = time.Hour
	defaultMaxRowBytes         = 1 << 20
	defaultMaxHeaderBytes      = 8 << 20
	defaultMaxColumns          = 10_000
)

// recordBytes is the most row data the hub collects before it hands a record to the destination:
// rows may be large, so a record is cut by size as well as by looker.MaxRecordRows.
const recordBytes = 4 << 20

func (l *Limits) setDefaults() {
	setDefault(&l.QueueWait, defaultQueueWait)
	setDefault(&l.MaxQueued, defaultMaxQueued)
	setDefault(&l.MaxBodyBytes, defaultMaxBodyBytes)
	setDefault(&l.MaxDownloadBytes, defaultMaxDownloadBytes)
	setDefault(&l.DownloadIdleTimeout, defaultDownloadIdleTimeout)
	setDefault(&l.DownloadTimeout, defaultDownloadTimeout)
	setDefault(&l.MaxRowBytes, defaultMaxRowBytes)
	setDefault(&l.MaxHeaderBytes, defaultMaxHeaderBytes)
	setDefault(&l.MaxColumns, defaultMaxColumns)
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// decodeLimits are the json_detail decoder's share of the limits.
func (l Limits) decodeLimits() looker.DecodeLimits {
	// Rows that come before "fields" are held until it arrives: no more than one record's worth.
	return looker.DecodeLimits{MaxRowBytes: l.MaxRowBytes, MaxSectionBytes: l.MaxHeaderBytes, MaxBufferedRows: looker.MaxRecordRows}
}

// boundError is an execution stopped by one of the hub's bounds. It names the bound and the flag
// that sets it, so the admin reading Looker's message knows what to change.
type boundError struct {
	what  string
	flag  string
	value any
}

func (e *boundError) Error() string { return fmt.Sprintf("%s (--%s %v)", e.what, e.flag, e.value) }

// Package brazeemu is a local emulator of the Braze REST API (POST /users/track and
// POST /users/export/ids) for tests, benchmarks and manual runs.
//
// It speaks the real wire protocol over real HTTP, so the destination's client code is
// exercised end to end. Behaviour follows docs/braze-api.md; where the
// reference marks a behaviour as unconfirmed, the choice made here is written next to
// the code and in docs/emulator-braze.md.
//
// Typical use in a test:
//
//	emu := brazeemu.Start(t, brazeemu.Options{APIKeys: []string{"k"}})
//	// point the client at emu.URL() with key "k", run it, then:
//	p, ok := emu.Profile("user-1")
package brazeemu

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Permission names used by Braze REST API keys (docs/braze-api.md §1.1, §5).
const (
	PermUsersTrack     = "users.track"
	PermUsersExportIDs = "users.export.ids"
)

// Defaults for Options fields left at their zero value.
const (
	// DefaultObjectCap is the current per-request total of attributes+events+purchases
	// (docs/braze-api.md §1.5). MAU contracts use 50.
	DefaultObjectCap = 75
	// DefaultRateLimit and DefaultRateWindow are the /users/track burst limit from
	// 2024-10-28 (docs/braze-api.md §1.6).
	DefaultRateLimit  = 3000
	DefaultRateWindow = 3 * time.Second
	// DefaultExportRateLimit per DefaultExportRateWindow is the pre-2024-08-22 limit of
	// /users/export/ids (docs/braze-api.md §1.6 "Other limits").
	DefaultExportRateLimit  = 2500
	DefaultExportRateWindow = time.Minute
	// DefaultMaxBodyBytes bounds a request body. Braze documents no byte limit for
	// /users/track (§1.5, unconfirmed); 4 MiB is far above any 75-object request a
	// well-behaved client sends.
	DefaultMaxBodyBytes = 4 << 20
	// DefaultArrayCap is the custom attribute array length from the 2024-25 docs (§2.2).
	DefaultArrayCap = 500
	// MaxExportIDs is the most external_ids+user_aliases one export may name (§5).
	MaxExportIDs = 50
	// maxStringLen is the longest string value or key Braze keeps (§2.1).
	maxStringLen = 255
	// maxNestedBytes is the size limit of one nested custom attribute object (§2.1).
	maxNestedBytes = 100 << 10
)

// Options configures an Emulator. The zero value of each field selects the default
// written next to it.
type Options struct {
	// APIKeys are keys allowed every permission (users.track and users.export.ids).
	APIKeys []string
	// KeyPermissions optionally maps further keys to explicit permissions, e.g.
	// {"ro": {"users.export.ids"}}. A key listed here uses exactly these permissions,
	// even if it is also in APIKeys; a key without users.track gets 403 on /users/track.
	KeyPermissions map[string][]string
	// ObjectCap is the most objects per /users/track request: 75 by default (total of
	// the three arrays), 50 for MAU contracts. With LegacyPerArrayCap it applies to
	// each array on its own.
	ObjectCap int
	// LegacyPerArrayCap applies ObjectCap per array (75+75+75 = 225 objects).
	LegacyPerArrayCap bool
	// RateLimit is the number of /users/track requests allowed per RateWindow per key:
	// 3000 by default; a negative value disables rate limiting.
	RateLimit int
	// RateWindow is the fixed rate-limit window (default 3 s).
	RateWindow time.Duration
	// ExportRateLimit and ExportRateWindow do the same for /users/export/ids
	// (default 2500 per minute; negative disables).
	ExportRateLimit  int
	ExportRateWindow time.Duration
	// MaxBodyBytes is the largest accepted request body (default 4 MiB); larger bodies
	// get 413.
	MaxBodyBytes int64
	// ArrayCap is the longest custom attribute array (default 500); adding past it
	// drops the oldest (first) elements.
	ArrayCap int
	// BlockedExternalIDs are external_ids rejected with "provided external_id is
	// blacklisted and disallowed" (compared case-insensitively). Nil selects
	// DefaultBlockedExternalIDs; an empty non-nil slice blocks nothing.
	BlockedExternalIDs []string
	// AdminToken, when set, must be sent as "Authorization: Bearer <token>" on the
	// /_emulator/ control endpoints. Empty means the control surface needs no auth.
	AdminToken string
	// Now is the clock (default time.Now). Tests inject it to drive rate-limit windows
	// and event times.
	Now func() time.Time
}

// DefaultBlockedExternalIDs are placeholder IDs Braze treats as dummy IDs. Braze does
// not publish its list (docs/braze-api.md §1.3); these are the obvious placeholders.
var DefaultBlockedExternalIDs = []string{"null", "undefined", "nil", "none", "n/a"}

func (o Options) withDefaults() Options {
	if o.ObjectCap <= 0 {
		o.ObjectCap = DefaultObjectCap
	}
	if o.RateLimit == 0 {
		o.RateLimit = DefaultRateLimit
	}
	if o.RateWindow <= 0 {
		o.RateWindow = DefaultRateWindow
	}
	if o.ExportRateLimit == 0 {
		o.ExportRateLimit = DefaultExportRateLimit
	}
	if o.ExportRateWindow <= 0 {
		o.ExportRateWindow = DefaultExportRateWindow
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.ArrayCap <= 0 {
		o.ArrayCap = DefaultArrayCap
	}
	if o.BlockedExternalIDs == nil {
		o.BlockedExternalIDs = DefaultBlockedExternalIDs
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Emulator is an in-memory Braze REST API. It implements http.Handler; use Start for
// a loopback server (tests use package test/emutest), or Main for a standalone process. All methods are safe
// for concurrent use.
type Emulator struct {
	opts    Options
	perms   map[string]map[string]bool // key -> permission set
	blocked map[string]bool

	store  *store
	stats  *statsCounter
	limits *rateLimiter
	faults *faultSet

	mu        sync.Mutex   // guards srv and listenURL
	srv       *http.Server // set by Listen
	listenURL string       // set by Listen and by Main's server
}

var _ http.Handler = (*Emulator)(nil)

// New returns an emulator that is not listening; serve it with any http.Server or call
// ServeHTTP directly.
func New(opts Options) *Emulator {
	opts = opts.withDefaults()
	e := &Emulator{
		opts:    opts,
		perms:   map[string]map[string]bool{},
		blocked: map[string]bool{},
		store:   newStore(),
		stats:   newStatsCounter(),
		limits:  newRateLimiter(),
		faults:  &faultSet{},
	}
	for _, k := range opts.APIKeys {
		e.perms[k] = map[string]bool{PermUsersTrack: true, PermUsersExportIDs: true}
	}
	for k, ps := range opts.KeyPermissions {
		set := map[string]bool{}
		for _, p := range ps {
			set[p] = true
		}
		e.perms[k] = set
	}
	for _, id := range opts.BlockedExternalIDs {
		e.blocked[strings.ToLower(id)] = true
	}
	return e
}

// Listen serves the emulator on addr ("127.0.0.1:0" for an ephemeral port) until Close.
func (e *Emulator) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	e.mu.Lock()
	e.srv, e.listenURL = srv, "http://"+ln.Addr().String()
	e.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// Close stops the server started by Listen, if any, and its open connections.
func (e *Emulator) Close() error {
	e.mu.Lock()
	srv := e.srv
	e.srv = nil
	e.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// URL is the base URL (scheme://host:port, no trailing slash) of a started emulator,
// or "" if it was built with New and is not served by Main.
func (e *Emulator) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.listenURL
}

// Options returns the effective options (defaults filled in).
func (e *Emulator) Options() Options { return e.opts }

// Profile returns a deep copy of the profile with this external_id.
func (e *Emulator) Profile(externalID string) (Profile, bool) {
	return e.store.get(externalID)
}

// ProfileByAlias returns a deep copy of the profile holding this user alias.
func (e *Emulator) ProfileByAlias(a Alias) (Profile, bool) {
	return e.store.getByAlias(a)
}

// ProfilesByEmail returns deep copies of every profile with this email
// (case-insensitive), in deterministic order.
func (e *Emulator) ProfilesByEmail(email string) []Profile {
	return e.store.getByEmail(email)
}

// Profiles returns deep copies of all profiles ordered by external_id, then braze_id.
func (e *Emulator) Profiles() []Profile { return e.store.all() }

// Seed stores existing users. A profile whose external_id (or braze_id) is already
// stored replaces it. Custom values are normalised as /users/track would store them
// (json.Number and int kinds become int64, date strings become time.Time).
func (e *Emulator) Seed(p ...Profile) { e.store.seed(e.opts, p) }

// Stats returns a snapshot of the counters.
func (e *Emulator) Stats() Stats { return e.stats.snapshot() }

// Reset drops every profile, counter, rate-limit window and fault.
func (e *Emulator) Reset() {
	e.store.reset()
	e.stats.reset()
	e.limits.reset()
	e.faults.set(nil)
}

// SetFaults replaces the scripted faults (nil or none clears them). See Fault.
func (e *Emulator) SetFaults(f ...Fault) { e.faults.set(f) }

// Faults returns the current faults with their firing counts.
func (e *Emulator) Faults() []Fault { return e.faults.list() }

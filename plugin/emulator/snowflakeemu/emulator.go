// Package snowflakeemu is a Snowflake emulator for tests: it speaks the
// REST + Arrow protocol the Go driver (gosnowflake v1.12.0) uses, over real
// HTTP, and answers queries by running them on an embedded SQLite database
// (modernc.org/sqlite) after a light rewrite (see rewrite.go). Seeded
// tables carry Snowflake column types (see Catalog and ParseType).
package snowflakeemu

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Options configures an emulator. Zero values get the defaults noted.
type Options struct {
	// Account, User: the login the emulator accepts (defaults "EMU", "BRAZESYNC").
	Account, User string
	// Password enables password login when non-empty.
	Password string
	// PublicKey enables key-pair (SNOWFLAKE_JWT) login for User.
	PublicKey *rsa.PublicKey
	// OAuthToken enables OAuth login when non-empty.
	OAuthToken string
	// Warehouses and Roles that exist (defaults ["COMPUTE_WH"], ["SYNC_ROLE"]).
	Warehouses, Roles []string
	// Database and Schema names (defaults "BRAZE", "PUBLIC"); qualifiers
	// naming them are accepted and dropped.
	Database, Schema string
	// Now is the emulator's clock for CURRENT_TIMESTAMP and seeding
	// (default: time.Now at start). It stands still (tests move it with
	// Advance) unless TickingClock is set.
	Now time.Time
	// TickingClock makes the clock run from Now at the speed of real time,
	// as a long-lived emulator serving real runs needs for lock expiry.
	TickingClock bool
	// InlineRows is how many rows go inline as rowsetBase64 (default 1000).
	InlineRows int
	// ChunkRows is the row count of each remote chunk (default 50000).
	ChunkRows int
	// HoldQuery is how long a query request waits for the result before
	// answering "still running" (code 333333) (default 2s).
	HoldQuery time.Duration
	// Dir holds the SQLite file (default: a new temporary directory).
	Dir string
	// Latency is how long every statement takes at least, as a real warehouse's round trip does
	// (default 0: as fast as SQLite).
	Latency time.Duration
}

func (o *Options) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Account, "EMU")
	def(&o.User, "BRAZESYNC")
	def(&o.Database, "BRAZE")
	def(&o.Schema, "PUBLIC")
	if len(o.Warehouses) == 0 {
		o.Warehouses = []string{"COMPUTE_WH"}
	}
	if len(o.Roles) == 0 {
		o.Roles = []string{"SYNC_ROLE"}
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC()
	}
	if o.InlineRows <= 0 {
		o.InlineRows = 1000
	}
	if o.ChunkRows <= 0 {
		o.ChunkRows = 50000
	}
	if o.HoldQuery <= 0 {
		o.HoldQuery = 2 * time.Second
	}
}

// QueryRecord is one entry of the emulator's query history, like a row of
// Snowflake's QUERY_HISTORY view.
type QueryRecord struct {
	QueryID, RequestID string
	SQL, Tag           string
	User, Warehouse    string
	Role               string
	DescribeOnly       bool
	// Status is RUNNING, SUCCESS, FAILED or ABORTED.
	Status    string
	ErrorCode string
	Rows      int64
	Chunks    int
	// RowsAffected is what a DML statement inserted, updated or deleted.
	RowsAffected int64
	// BoundRows is how many rows of bound values the statement ran for
	// (an array binding's length; 1 for plain bindings; 0 for none).
	BoundRows int
	// Started is when the request arrived; Elapsed how long the statement
	// ran, result chunks built.
	Started time.Time
	Elapsed time.Duration
}

// Emulator is a running Snowflake emulator.
type Emulator struct {
	opts    Options
	db      *sql.DB
	dir     string
	ownDir  bool
	catalog *Catalog
	clock   *clock
	schemas *schemaSet
	srv     *http.Server
	ln      net.Listener
	ctx     context.Context
	stop    context.CancelFunc

	mu          sync.Mutex
	sessions    map[string]*session // by session token
	masters     map[string]*session // by master token
	queries     map[string]*query   // by query id
	byRequestID map[string]*query
	history     []*QueryRecord
	logins      []string
	renewals    int
	closed      int
	chunkGets   int
}

// New opens the emulator's database and registers its SQL functions. Call
// Start to serve HTTP.
func New(opts Options) (*Emulator, error) {
	opts.setDefaults()
	if err := registerFunctions(); err != nil {
		return nil, err
	}
	e := &Emulator{opts: opts, sessions: map[string]*session{}, masters: map[string]*session{},
		queries: map[string]*query{}, byRequestID: map[string]*query{}}
	e.dir = opts.Dir
	if e.dir == "" {
		d, err := os.MkdirTemp("", "snowflakeemu-")
		if err != nil {
			return nil, fmt.Errorf("creating data dir: %w", err)
		}
		e.dir, e.ownDir = d, true
	}
	dsn := "file:" + filepath.Join(e.dir, "emu.db") + "?_pragma=journal_mode(wal)&_pragma=busy_timeout(10000)&_pragma=synchronous(off)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite: %w", err)
	}
	e.db = db
	e.catalog = &Catalog{db: db, tables: map[string][]column{}}
	e.clock = newClock(opts.Now, opts.TickingClock)
	e.schemas = newSchemaSet(opts.Schema)
	if err := e.schemas.load(db); err != nil {
		_ = db.Close()
		return nil, err
	}
	e.ctx, e.stop = context.WithCancel(context.Background())
	return e, nil
}

// Start serves the emulator on addr ("127.0.0.1:0" for an ephemeral port).
func (e *Emulator) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	e.ln = ln
	e.srv = &http.Server{Handler: e.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	return nil
}

// NewStarted is New then Start on 127.0.0.1:0.
func NewStarted(opts Options) (*Emulator, error) {
	e, err := New(opts)
	if err != nil {
		return nil, err
	}
	if err := e.Start("127.0.0.1:0"); err != nil {
		_ = e.Close()
		return nil, err
	}
	return e, nil
}

// Close stops the server, cancels running queries and removes the data.
func (e *Emulator) Close() error {
	e.stop()
	if e.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = e.srv.Shutdown(ctx)
	}
	err := e.db.Close()
	if e.ownDir {
		_ = os.RemoveAll(e.dir)
	}
	return err
}

// Addr is the host:port the emulator listens on.
func (e *Emulator) Addr() string { return e.ln.Addr().String() }

// URL is the emulator's base URL.
func (e *Emulator) URL() string { return "http://" + e.Addr() }

// HostPort splits Addr for driver configs.
func (e *Emulator) HostPort() (string, int) {
	a := e.ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// Options returns the options in effect (defaults filled in).
func (e *Emulator) Options() Options { return e.opts }

// DB is the SQLite database behind the emulator, for seeding by hand.
func (e *Emulator) DB() *sql.DB { return e.db }

// Catalog is the emulator's typed table catalog.
func (e *Emulator) Catalog() *Catalog { return e.catalog }

// History returns a copy of the query history, oldest first.
func (e *Emulator) History() []QueryRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]QueryRecord, len(e.history))
	for i, r := range e.history {
		out[i] = *r
	}
	return out
}

// Stats are counters tests check against.
type Stats struct {
	Logins        []string // authenticator of each successful login
	Renewals      int      // session token renewals
	SessionsOpen  int
	SessionsClose int
	ChunkGets     int
}

// Stats returns the emulator's counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Stats{Logins: append([]string(nil), e.logins...), Renewals: e.renewals,
		SessionsOpen: len(e.sessions), SessionsClose: e.closed, ChunkGets: e.chunkGets}
}

// ExpireSessionTokens makes every current session token expired, so the
// next request gets code 390112 and the driver must renew it.
func (e *Emulator) ExpireSessionTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.sessions {
		s.expired = true
	}
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return strings.Join([]string{h[:8], h[8:12], h[12:16], h[16:20], h[20:]}, "-")
}

func (e *Emulator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /session/v1/login-request", e.handleLogin)
	mux.HandleFunc("POST /session/token-request", e.handleRenew)
	mux.HandleFunc("POST /session", e.handleSessionDelete)
	mux.HandleFunc("POST /session/heartbeat", e.handleOK)
	mux.HandleFunc("POST /telemetry/send", e.handleOK)
	mux.HandleFunc("POST /queries/v1/query-request", e.handleQuery)
	mux.HandleFunc("GET /queries/{qid}/result", e.handleResult)
	mux.HandleFunc("POST /queries/v1/abort-request", e.handleAbort)
	mux.HandleFunc("GET /chunks/{qid}/{n}", e.handleChunk)
	return mux
}

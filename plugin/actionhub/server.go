// Package actionhub is a Looker Action Hub that serves a `braze` action, a
// drop-in replacement for the stock one (same params, form and tags) that
// writes through the brazesync destination process, launched over go-plugin
// exactly as `brazesync sync` launches it: every row, awaited and
// rate-limited requests with retries, typed values, and honest answers,
// within bounds on memory and time whatever the caller sends.
package actionhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Defaults, named after the stock hub's settings where there is one.
const (
	defaultMaxConcurrent = 4
	defaultKeepAlive     = 30 * time.Second // ACTION_HUB_JSON_KEEPALIVE_SEC
	defaultRunTimeout    = time.Hour        // the stock hub's PROCESS_TIMEOUT
	defaultLabel         = "brazesync"
)

// Config configures a hub.
type Config struct {
	// Secret is ACTION_HUB_SECRET: tokens are nonce/HMAC-SHA512(secret, nonce).
	Secret []byte
	// BaseURL is the hub's public URL, used in the listed url and form_url;
	// empty means derived from each request's Host.
	BaseURL string
	// Label is the hub label shown in Looker.
	Label string
	// MaxConcurrent bounds executions running at once; more wait their turn
	// (Limits.QueueWait at most).
	MaxConcurrent int
	// ReportDir receives one JSON run report (and dead-letter file, if any)
	// per execution.
	ReportDir string
	// KeepAlive is the interval between keep-alive newlines.
	KeepAlive time.Duration
	// RunTimeout bounds one execution once it has a slot.
	RunTimeout time.Duration
	// AllowedEndpointHosts are host[:port] values accepted as a Braze
	// endpoint besides Braze's REST hosts and loopback (a proxy).
	AllowedEndpointHosts []string
	// StateDir holds mirror mode's sync state, one folder per export label (mirror.go); empty means
	// <ReportDir>/state.
	StateDir string
	// DestinationPath is the braze-destination binary every execution
	// writes through; empty means the one beside the running executable.
	DestinationPath string
	// Destination holds the hub-wide settings of the Braze destination.
	Destination DestinationOptions
	// Limits bound each execution's memory and time.
	Limits Limits
	// HTTPClient fetches download_url; nil means a client without timeout
	// (Limits bound downloads).
	HTTPClient *http.Client
	// Logger receives one line per execution outcome, and the destination
	// processes' lines. Keys never appear.
	Logger zerolog.Logger
}

// Server is a running Action Hub.
type Server struct {
	cfg    Config
	policy endpointPolicy
	sem    chan struct{}
	queued atomic.Int64    // executions waiting for a slot (acquire)
	ctx    context.Context // ends on Shutdown, ending every run
	cancel context.CancelCauseFunc
	runs   sync.WaitGroup
}

// errShutdown ends the executions still running when the hub shuts down.
var errShutdown = errors.New("the action hub is shutting down")

// New checks cfg and returns a hub.
func New(cfg Config) (*Server, error) {
	if err := cfg.prepare(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, policy: newEndpointPolicy(cfg.AllowedEndpointHosts), sem: make(chan struct{}, cfg.MaxConcurrent)}
	if err := s.checkDestinationOptions(); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	return s, nil
}

// prepare checks the configuration, fills in defaults and creates the report folder.
func (c *Config) prepare() error {
	if len(c.Secret) < 16 {
		return errors.New("the action hub secret must be at least 16 bytes")
	}
	setDefault(&c.MaxConcurrent, defaultMaxConcurrent)
	setDefault(&c.KeepAlive, defaultKeepAlive)
	setDefault(&c.RunTimeout, defaultRunTimeout)
	c.Limits.setDefaults()
	if c.Label == "" {
		c.Label = defaultLabel
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if err := c.locateDestination(); err != nil {
		return err
	}
	if c.ReportDir != "" {
		// Dead letters hold rows, which may be personal data: the folder is the hub user's only.
		if err := os.MkdirAll(c.ReportDir, 0o700); err != nil {
			return fmt.Errorf("creating the report folder: %w", err)
		}
	}
	return nil
}

// Shutdown cancels running executions and waits for them to write their
// reports, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel(errShutdown)
	done := make(chan struct{})
	go func() { s.runs.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Handler returns the hub's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", landing)
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("POST /{$}", s.guard(s.list))
	mux.HandleFunc("POST /actions/{name}", s.guard(s.action(s.single)))
	mux.HandleFunc("POST /actions/{name}/form", s.guard(s.action(s.form)))
	mux.HandleFunc("POST /actions/{name}/execute", s.guard(s.action(s.execute)))
	return mux
}

func landing(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, "<!doctype html><title>brazesync action hub</title><p>brazesync Looker Action Hub. Add this URL to Looker under Admin → Actions.</p>\n")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// guard refuses any request whose Authorization header is not a valid token.
func (s *Server) guard(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !authorized(s.cfg.Secret, r.Header.Get("Authorization")) {
			s.cfg.Logger.Warn().Str("path", r.URL.Path).Str("remote", r.RemoteAddr).Msg("refused request with an invalid Authorization header")
			writeJSON(w, http.StatusForbidden, map[string]any{"success": false, "error": "Invalid 'Authorization' header."})
			return
		}
		next(w, r)
	}
}

// action 404s unknown action names.
func (s *Server) action(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if name := r.PathValue("name"); name != ActionName {
			writeJSON(w, http.StatusNotFound, map[string]any{"success": false, "error": fmt.Sprintf("No action found with name %s.", name)})
			return
		}
		next(w, r)
	}
}

func (s *Server) base(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	def := brazeDefinition(s.base(r), lookerVersion(r.UserAgent()))
	writeJSON(w, http.StatusOK, map[string]any{"integrations": []definition{def}, "label": s.cfg.Label})
}

func (s *Server) single(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, brazeDefinition(s.base(r), lookerVersion(r.UserAgent())))
}

// form serves the stock form. When Looker sends the action params (data),
// missing required ones are reported as the stock hub does.
func (s *Server) form(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Data map[string]string `json:"data"`
	}
	_ = json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body)
	ka := startKeepAlive(w, s.cfg.KeepAlive, nil)
	if body.Data != nil {
		for _, p := range []struct{ name, label string }{{paramAPIKey, labelAPIKey}, {paramEndpoint, labelEndpoint}} {
			if strings.TrimSpace(body.Data[p.name]) == "" {
				ka.finish(map[string]string{"error": fmt.Sprintf("Required setting %q not specified in action settings.", p.label)})
				return
			}
		}
	}
	ka.finish(brazeForm())
}

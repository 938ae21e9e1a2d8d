// Package actionhub is a Looker Action Hub that serves a `braze` action, a
// drop-in replacement for the stock one (same params, form and tags) that
// writes through the brazesync destination: every row, awaited and
// rate-limited requests with retries, typed values, and honest answers.
package actionhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Defaults, named after the stock hub's settings where there is one.
const (
	defaultMaxConcurrent = 4
	defaultKeepAlive     = 30 * time.Second // ACTION_HUB_JSON_KEEPALIVE_SEC
	defaultRunTimeout    = time.Hour        // the stock hub's PROCESS_TIMEOUT
	maxBodyBytes         = 250 << 20        // the stock hub's body limit
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
	// MaxConcurrent bounds executions running at once; more wait their turn.
	MaxConcurrent int
	// ReportDir receives one JSON run report (and dead-letter file, if any)
	// per execution.
	ReportDir string
	// KeepAlive is the interval between keep-alive newlines.
	KeepAlive time.Duration
	// RunTimeout bounds one execution, queueing included.
	RunTimeout time.Duration
	// AllowedEndpointHosts are host[:port] values accepted as a Braze
	// endpoint besides Braze's REST hosts (a proxy, or an emulator in tests).
	AllowedEndpointHosts []string
	// Sink opens the Braze writer of one execution; nil means
	// DestinationSink with default options.
	Sink SinkFactory
	// HTTPClient fetches download_url; nil means a client without timeout
	// (large results stream for a long time).
	HTTPClient *http.Client
	// Logger receives one line per execution outcome. Keys never appear.
	Logger zerolog.Logger
}

// Server is a running Action Hub.
type Server struct {
	cfg    Config
	policy endpointPolicy
	sem    chan struct{}
	ctx    context.Context // ends on Shutdown, ending every run
	cancel context.CancelFunc
	runs   sync.WaitGroup
}

// New checks cfg and returns a hub.
func New(cfg Config) (*Server, error) {
	if len(cfg.Secret) < 16 {
		return nil, errors.New("the action hub secret must be at least 16 bytes")
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = defaultMaxConcurrent
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = defaultKeepAlive
	}
	if cfg.RunTimeout <= 0 {
		cfg.RunTimeout = defaultRunTimeout
	}
	if cfg.Label == "" {
		cfg.Label = defaultLabel
	}
	if cfg.Sink == nil {
		cfg.Sink = DestinationSink(DestinationOptions{})
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	policy := endpointPolicy{extraHosts: map[string]bool{}}
	for _, h := range cfg.AllowedEndpointHosts {
		policy.extraHosts[strings.ToLower(h)] = true
	}
	s := &Server{cfg: cfg, policy: policy, sem: make(chan struct{}, cfg.MaxConcurrent)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Shutdown cancels running executions and waits for them to write their
// reports, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
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
	ka := startKeepAlive(w, s.cfg.KeepAlive)
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

// answer is the execute response body.
type answer struct {
	Looker lookerAnswer `json:"looker"`
}

type lookerAnswer struct {
	Success          bool              `json:"success"`
	Message          string            `json:"message"`
	RefreshQuery     bool              `json:"refresh_query"`
	ValidationErrors map[string]string `json:"validation_errors"`
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	var p executePayload
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	decodeErr := dec.Decode(&p)
	ka := startKeepAlive(w, s.cfg.KeepAlive)
	s.runs.Add(1)
	defer s.runs.Done()
	info := runInfo{webhookID: r.Header.Get("X-Looker-Webhook-Id"), instance: r.Header.Get("X-Looker-Instance")}
	var out *outcome
	if decodeErr != nil {
		out = s.finishEarly(info, fail("The execute request is not valid JSON: %v.", decodeErr))
	} else {
		out = s.run(p, info)
	}
	ans := answer{Looker: lookerAnswer{Success: out.success, Message: out.message, ValidationErrors: out.validation}}
	if ans.Looker.ValidationErrors == nil {
		ans.Looker.ValidationErrors = map[string]string{}
	}
	ka.finish(ans)
}

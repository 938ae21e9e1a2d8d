package lookeremu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures an emulated Looker instance.
type Options struct {
	ClientID     string        // default "brazesync"
	ClientSecret string        // default "emulator-secret"
	TokenTTL     time.Duration // access-token lifetime; default 1h
	Views        []View
	Looks        []Look
	// DataBeforeFields writes "data" before "fields" in json_detail, an
	// order Looker does not promise never to use.
	DataBeforeFields bool
	// Timezone is the json_detail "timezone" (query timezone); default UTC.
	Timezone string
	// Addr to listen on; default 127.0.0.1:0.
	Addr string
}

// Stats counts what the emulator served.
type Stats struct {
	Logins        int
	APICalls      int // authenticated API calls, throttled ones included
	Throttled     int // calls answered with an injected fault
	Unauthorized  int // calls refused for a missing or expired token
	Downloads     int // download_url fetches served
	QueryRuns     int // results computed by a run endpoint (a Look or an inline query): one warehouse query each
	LastAuthStyle string
}

// Request is one entry of the emulator's request log.
type Request struct {
	Method, Path string // Path without the query string
	Limit        string // the limit query parameter ("" when absent; an inline query's is in its body)
}

// Server is a running emulated Looker.
type Server struct {
	opts Options
	ln   net.Listener
	srv  *http.Server

	mu        sync.Mutex
	tokens    map[string]time.Time
	faults    []fault
	stats     Stats
	downloads map[string]Query
	hostile   map[string]*HostileDownload // hostile.go
	requests  []Request
	loginFail []int // statuses the next logins answer with
}

type fault struct {
	status     int
	retryAfter string
}

// New starts an emulator on opts.Addr (127.0.0.1:0 by default).
func New(opts Options) (*Server, error) {
	if opts.ClientID == "" {
		opts.ClientID = "brazesync"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "emulator-secret"
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	s := &Server{opts: opts, ln: ln, tokens: map[string]time.Time{}, downloads: map[string]Query{}}
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// URL is the instance base URL (the API lives under /api/4.0).
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// ClientID and ClientSecret are the API credentials the emulator accepts.
func (s *Server) ClientID() string     { return s.opts.ClientID }
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// Close stops the server.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

// Requests returns the request log: every request served, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) logRequest(r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Limit: r.URL.Query().Get("limit")})
	s.mu.Unlock()
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// FailNext makes the next n authenticated API calls answer status (e.g.
// 429) with the given Retry-After header ("" for none).
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status, retryAfter: retryAfter})
	}
}

// FailNextLogins makes the next n logins answer status (e.g. 503, an instance that is down).
func (s *Server) FailNextLogins(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.loginFail = append(s.loginFail, status)
	}
}

// ExpireTokens invalidates every issued access token, as an expiry would.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.tokens {
		s.tokens[k] = time.Time{}
	}
}

// Look returns a saved Look by id.
func (s *Server) Look(id int) (Look, bool) {
	for _, l := range s.opts.Looks {
		if l.ID == id {
			return l, true
		}
	}
	return Look{}, false
}

func (s *Server) view(model, name string) *View {
	for i := range s.opts.Views {
		if v := &s.opts.Views[i]; v.Model == model && v.Name == name {
			return v
		}
	}
	return nil
}

// DownloadURL registers q and returns a one-time URL that serves its
// json_detail without authentication, like a scheduled plan's download_url.
func (s *Server) DownloadURL(q Query) (string, error) {
	if _, err := s.resolve(q); err != nil {
		return "", err
	}
	id := randomHex(24)
	s.mu.Lock()
	s.downloads[id] = q
	s.mu.Unlock()
	return s.URL() + "/downloads/" + id, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/4.0/login", s.login)
	mux.HandleFunc("DELETE /api/4.0/logout", s.authed(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	mux.HandleFunc("GET /api/4.0/looks/{id}", s.authed(s.getLook))
	mux.HandleFunc("GET /api/4.0/looks/{id}/run/{format}", s.authed(s.runLook))
	mux.HandleFunc("POST /api/4.0/queries/run/{format}", s.authed(s.runQuery))
	mux.HandleFunc("GET /downloads/{id}", s.download)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logRequest(r)
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg, "documentation_url": "https://cloud.google.com/looker/docs/"})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var fail int
	if len(s.loginFail) > 0 {
		fail, s.loginFail = s.loginFail[0], s.loginFail[1:]
	}
	s.mu.Unlock()
	if fail != 0 {
		apiError(w, fail, http.StatusText(fail)+" (injected)")
		return
	}
	if err := r.ParseForm(); err != nil {
		apiError(w, http.StatusBadRequest, "bad form")
		return
	}
	// Credentials only count from the body; the query-string form is deprecated.
	if r.PostForm.Get("client_id") != s.opts.ClientID || r.PostForm.Get("client_secret") != s.opts.ClientSecret {
		apiError(w, http.StatusNotFound, "Not found")
		return
	}
	tok := randomHex(20)
	s.mu.Lock()
	s.tokens[tok] = time.Now().Add(s.opts.TokenTTL)
	s.stats.Logins++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": int(s.opts.TokenTTL / time.Second), "refresh_token": nil})
}

// authed checks the access token ("token X" or "Bearer X") and applies any
// injected fault before calling next.
func (s *Server) authed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		style, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		s.mu.Lock()
		s.stats.APICalls++
		exp, ok := s.tokens[tok]
		valid := ok && (strings.EqualFold(style, "token") || strings.EqualFold(style, "bearer")) && time.Now().Before(exp)
		var f *fault
		if valid && len(s.faults) > 0 {
			f = &s.faults[0]
			s.faults = s.faults[1:]
			s.stats.Throttled++
		}
		if !valid {
			s.stats.Unauthorized++
		}
		s.stats.LastAuthStyle = style
		s.mu.Unlock()
		switch {
		case !valid:
			apiError(w, http.StatusUnauthorized, "Requires authentication.")
		case f != nil:
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			apiError(w, f.status, "Too many requests (injected)")
		default:
			next(w, r)
		}
	}
}

type lookJSON struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	QueryID int    `json:"query_id"`
	Query   Query  `json:"query"`
}

func (s *Server) lookFromPath(w http.ResponseWriter, r *http.Request) (Look, bool) {
	id, err := strconv.Atoi(r.PathValue("id"))
	l, ok := s.Look(id)
	if err != nil || !ok {
		apiError(w, http.StatusNotFound, "Not found")
		return Look{}, false
	}
	return l, true
}

func (s *Server) getLook(w http.ResponseWriter, r *http.Request) {
	if l, ok := s.lookFromPath(w, r); ok {
		writeJSON(w, http.StatusOK, lookJSON{ID: l.ID, Title: l.Title, QueryID: 1000 + l.ID, Query: l.Query})
	}
}

func (s *Server) runLook(w http.ResponseWriter, r *http.Request) {
	l, ok := s.lookFromPath(w, r)
	if !ok {
		return
	}
	q := l.Query
	// The limit query parameter overrides the Look's saved limit; a Look saved without one gets
	// Looker's 5,000 (defaultLimit).
	if lim := r.URL.Query().Get("limit"); lim != "" {
		q.Limit = lim
	}
	s.countRun()
	s.serveResult(w, r.PathValue("format"), q)
}

// defaultQueryLimit is the row limit Looker applies to an inline query that sets none.
const defaultQueryLimit = "500"

func (s *Server) runQuery(w http.ResponseWriter, r *http.Request) {
	var q Query
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		apiError(w, http.StatusBadRequest, "invalid query body")
		return
	}
	if q.Limit == "" {
		q.Limit = defaultQueryLimit
	}
	s.countRun()
	s.serveResult(w, r.PathValue("format"), q)
}

func (s *Server) countRun() {
	s.mu.Lock()
	s.stats.QueryRuns++
	s.mu.Unlock()
}

func (s *Server) serveResult(w http.ResponseWriter, format string, q Query) {
	if format != "json_detail" {
		apiError(w, http.StatusBadRequest, "the emulator serves json_detail only")
		return
	}
	res, err := s.resolve(q)
	if err != nil {
		apiError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	// A client that hangs up mid-stream (a header-only read) is normal.
	_ = s.writeJSONDetail(w, res)
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if d := s.hostileDownload(id); d != nil {
		d.serve(w, r)
		return
	}
	s.mu.Lock()
	q, ok := s.downloads[id]
	delete(s.downloads, id) // one use only, like Looker's
	if ok {
		s.stats.Downloads++
	}
	s.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, "Not found")
		return
	}
	s.serveResult(w, "json_detail", q)
}

// errNoLook is returned for an unknown Look id.
var errNoLook = errors.New("no such look")

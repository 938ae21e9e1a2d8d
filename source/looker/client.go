package looker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/brazesync/brazesync/source/sourceerr"
)

// Retry and token defaults.
const (
	defaultMaxRetries = 5
	defaultMinBackoff = 500 * time.Millisecond
	defaultMaxBackoff = 30 * time.Second
	// tokenSlack renews a token this long before Looker says it expires.
	tokenSlack = 30 * time.Second
	// maxErrorBody bounds how much of an error response is read.
	maxErrorBody = 4 << 10
)

// Query is an inline Looker query (the API 4.0 Query body subset brazesync
// sends). Limit is a string: "-1" means all results.
type Query struct {
	Model         string            `json:"model"`
	View          string            `json:"view"`
	Fields        []string          `json:"fields"`
	Pivots        []string          `json:"pivots,omitempty"`
	Filters       map[string]string `json:"filters,omitempty"`
	Sorts         []string          `json:"sorts,omitempty"`
	Limit         string            `json:"limit,omitempty"`
	QueryTimezone string            `json:"query_timezone,omitempty"`
	DynamicFields string            `json:"dynamic_fields,omitempty"`
}

// APIError is a non-2xx answer from the Looker API. Message is Looker's
// "message" field; the body is never echoed beyond it.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("looker API: HTTP %d", e.Status)
	}
	return fmt.Sprintf("looker API: HTTP %d: %s", e.Status, e.Message)
}

// ClientConfig configures a Client.
type ClientConfig struct {
	BaseURL      string // instance URL, e.g. https://acme.looker.com:19999
	ClientID     string
	ClientSecret string
	HTTP         *http.Client
	MaxRetries   int           // retries on 429/5xx; 0 means the default
	MinBackoff   time.Duration // first retry wait; 0 means the default
	MaxBackoff   time.Duration // cap on any wait, Retry-After included
}

// Client is a minimal Looker API 4.0 client that streams results.
type Client struct {
	cfg  ClientConfig
	base string

	mu      sync.Mutex
	token   string
	expires time.Time
	logins  int
}

// NewClient validates cfg and returns a client; it does no I/O.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("looker base_url must be an http(s) URL")
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("looker client_id and client_secret are required")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = defaultMaxRetries
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = defaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = defaultMaxBackoff
	}
	return &Client{cfg: cfg, base: strings.TrimRight(u.String(), "/") + "/api/4.0"}, nil
}

// Logins reports how many times the client has logged in.
func (c *Client) Logins() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logins
}

// RunLook runs a saved Look and returns the json_detail body to stream.
// limit overrides the Look's own limit ("-1" = all results; "" = keep).
func (c *Client) RunLook(ctx context.Context, lookID int, limit string) (io.ReadCloser, error) {
	q := runParams()
	if limit != "" {
		q.Set("limit", limit)
	}
	path := fmt.Sprintf("/looks/%d/run/json_detail?%s", lookID, q.Encode())
	return c.stream(ctx, http.MethodGet, path, nil)
}

// RunQuery runs an inline query and returns the json_detail body to stream.
func (c *Client) RunQuery(ctx context.Context, query Query) (io.ReadCloser, error) {
	body, err := json.Marshal(query)
	if err != nil {
		return nil, fmt.Errorf("encoding query: %w", err)
	}
	path := "/queries/run/json_detail?" + runParams().Encode()
	return c.stream(ctx, http.MethodPost, path, body)
}

// runParams keep json_detail lean: no drill links, raw values.
func runParams() url.Values {
	q := url.Values{}
	q.Set("apply_formatting", "false")
	q.Set("apply_vis", "false")
	q.Set("generate_drill_links", "false")
	q.Set("server_table_calcs", "true")
	return q
}

// stream sends an authenticated request, retrying 429/5xx with backoff and
// re-logging in once on 401, and returns the open 200 body.
func (c *Client) stream(ctx context.Context, method, path string, body []byte) (io.ReadCloser, error) {
	relogged := false
	for attempt := 0; ; attempt++ {
		token, err := c.accessToken(ctx)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("building request: %w", err)
		}
		req.Header.Set("Authorization", "token "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.cfg.HTTP.Do(req)
		if err != nil {
			return nil, sourceerr.Retryable(fmt.Errorf("calling looker: %w", err))
		}
		if resp.StatusCode == http.StatusOK {
			return resp.Body, nil
		}
		apiErr := readAPIError(resp)
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !relogged:
			// The token expired or was revoked early: log in again once.
			relogged = true
			c.dropToken(token)
			continue
		case retryable(resp.StatusCode) && attempt < c.cfg.MaxRetries:
			if err := sleepCtx(ctx, c.backoff(attempt, resp.Header.Get("Retry-After"))); err != nil {
				return nil, err
			}
			continue
		}
		return nil, classifyAPIError(apiErr)
	}
}

// classifyAPIError gives a Looker answer its class for the runner (package sourceerr): a refused
// token or a missing Look is the spec's to fix; 429 and 5xx (after the retries) may pass.
func classifyAPIError(err error) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	switch s := apiErr.Status; {
	case s == http.StatusUnauthorized:
		return sourceerr.Unauthenticated(err)
	case s == http.StatusForbidden:
		return sourceerr.PermissionDenied(err)
	case s == http.StatusNotFound:
		return sourceerr.NotFound(err)
	case s == http.StatusTooManyRequests || s >= 500:
		return sourceerr.Retryable(err)
	}
	return sourceerr.Config(err) // 400, 422: the query Looker was asked to run is wrong
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusBadGateway ||
		status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// backoff is exponential with full jitter; Retry-After is honoured but capped.
func (c *Client) backoff(attempt int, retryAfter string) time.Duration {
	if secs, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && secs >= 0 {
		return min(time.Duration(secs)*time.Second, c.cfg.MaxBackoff)
	}
	d := c.cfg.MinBackoff << min(attempt, 10)
	d = min(d, c.cfg.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func readAPIError(resp *http.Response) error {
	defer resp.Body.Close()
	var body struct {
		Message string `json:"message"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&body)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	return &APIError{Status: resp.StatusCode, Message: body.Message}
}

// loginError explains a refused login. Looker answers a wrong client_id or client_secret with
// 404 "Not found" (and some versions with 401 or 403), which reads like a wrong base_url; the
// message says both, and the class is refused credentials. 5xx and 429 after every retry are an
// outage.
func loginError(status int, apiErr error, attempt int) error {
	switch {
	case status == http.StatusNotFound:
		return sourceerr.Unauthenticated(fmt.Errorf("logging in to looker: %w: Looker answers a wrong client_id or client_secret "+
			"with 404, so check the API3 credentials first (and that base_url is the API host, e.g. https://acme.looker.com:19999)", apiErr))
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return sourceerr.Unauthenticated(fmt.Errorf("logging in to looker: %w: check client_id and client_secret", apiErr))
	case retryable(status) || status >= 500:
		return sourceerr.Retryable(fmt.Errorf("logging in to looker: %w (after %d attempts)", apiErr, attempt+1))
	}
	return sourceerr.Config(fmt.Errorf("logging in to looker: %w", apiErr))
}

// accessToken returns a valid token, logging in when there is none or it is
// about to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.expires) {
		return c.token, nil
	}
	return c.login(ctx)
}

func (c *Client) dropToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token = ""
	}
}

// login runs the client-credentials flow (POST /login, form body). Called
// with c.mu held. The secret goes only in the body, never in the URL.
func (c *Client) login(ctx context.Context) (string, error) {
	form := url.Values{"client_id": {c.cfg.ClientID}, "client_secret": {c.cfg.ClientSecret}}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/login", strings.NewReader(form.Encode()))
		if err != nil {
			return "", fmt.Errorf("building login request: %w", err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.cfg.HTTP.Do(req)
		if err != nil {
			return "", sourceerr.Retryable(fmt.Errorf("logging in to looker: %w", err))
		}
		if resp.StatusCode != http.StatusOK {
			apiErr := readAPIError(resp)
			if retryable(resp.StatusCode) && attempt < c.cfg.MaxRetries {
				if err := sleepCtx(ctx, c.backoff(attempt, resp.Header.Get("Retry-After"))); err != nil {
					return "", err
				}
				continue
			}
			return "", loginError(resp.StatusCode, apiErr, attempt)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int    `json:"expires_in"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&tok)
		resp.Body.Close()
		if err != nil || tok.AccessToken == "" {
			return "", sourceerr.Retryable(errors.New("logging in to looker: response has no access_token"))
		}
		ttl := time.Duration(tok.ExpiresIn) * time.Second
		c.token = tok.AccessToken
		c.expires = time.Now().Add(max(ttl-tokenSlack, ttl/2))
		c.logins++
		return c.token, nil
	}
}

// Package brazeapi is a client for Braze's /users/track endpoint: pacing under the workspace rate
// limit, retries as a policy, typed errors, and per-object results. It knows nothing about Arrow or
// rows; it sends bodies the caller built. Facts: docs/braze-api.md §1, §3, §6.
package brazeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxErrorBody bounds how much of a non-success answer is read.
const maxErrorBody = 64 << 10

// Options configure a Client.
type Options struct {
	Endpoint            string // REST endpoint, e.g. https://rest.iad-01.braze.com
	AllowCustomEndpoint bool   // send the key to a host that is not a published Braze REST host
	APIKey              string
	RateLimit           int           // requests per RateWindow; <= 0 disables client-side pacing
	RateWindow          time.Duration // default 3 s
	Retry               RetryPolicy
	Timeout             time.Duration // per attempt; default 30 s
	HTTPClient          *http.Client  // optional; its CheckRedirect is replaced
	UserAgent           string
	// MaxConns is how many requests may be in flight at once; the transport keeps that many
	// connections open, so workers reuse them instead of paying a TLS handshake per request.
	MaxConns int
}

// Client sends /users/track requests. It is safe for concurrent use.
type Client struct {
	track   string // full URL of /users/track
	base    *url.URL
	auth    string // "Bearer <key>": kept out of every error and log
	http    *http.Client
	limiter *Limiter
	retry   RetryPolicy
	ua      string

	// Seams for tests: backoff waits and their jitter.
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(int64) int64
}

// New validates the options and builds a client.
func New(o Options) (*Client, error) {
	if o.APIKey == "" {
		return nil, errors.New("api_key is empty")
	}
	u, err := ParseEndpoint(o.Endpoint, o.AllowCustomEndpoint)
	if err != nil {
		return nil, err
	}
	if o.RateWindow <= 0 {
		o.RateWindow = 3 * time.Second
	}
	if o.Retry.MaxAttempts <= 0 {
		o.Retry = DefaultRetryPolicy()
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	hc := &http.Client{Timeout: o.Timeout, Transport: newTransport(o.MaxConns)}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		hc = &c
		if hc.Timeout == 0 {
			hc.Timeout = o.Timeout
		}
	}
	// Never follow a redirect: the key must not travel to any other URL than the one configured.
	// A 3xx is answered to the caller as a non-retryable error.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ua := o.UserAgent
	if ua == "" {
		ua = "brazesync"
	}
	return &Client{
		track:   u.String() + "/users/track",
		base:    u,
		auth:    "Bearer " + o.APIKey,
		http:    hc,
		limiter: NewLimiter(o.RateLimit, o.RateWindow),
		retry:   o.Retry,
		ua:      ua,
		sleep:   sleepCtx,
		jitter:  randJitter,
	}, nil
}

// Endpoint is the normalised base URL (no secrets in it).
func (c *Client) Endpoint() string { return c.base.String() }

// Limiter is the client's pacer (shared by every request of the client).
func (c *Client) Limiter() *Limiter { return c.limiter }

// Result is the outcome of one Track call, across its retries.
type Result struct {
	Status      int
	Message     string
	Processed   int           // attributes_processed
	Errors      []ObjectError // non-fatal per-object errors of a 201 (or of a fatal 400)
	Attempts    int
	RateLimited int // 429 answers seen
	BytesSent   int64
}

// Track sends one /users/track body, pacing and retrying under the policy. A nil error means Braze
// accepted the request; some objects may still be listed in Result.Errors. On error, Result still
// carries the attempts made, and the error wraps the last attempt's. Under a WithDrain context it
// starts no attempt once the drain began (ErrDrained).
func (c *Client) Track(ctx context.Context, body []byte) (Result, error) {
	var res Result
	var last error // the previous attempt's error
	for {
		tk, err := c.acquire(ctx, last)
		if err != nil {
			return res, err
		}
		res.Attempts++
		res.BytesSent += int64(len(body))
		wait, err := c.attempt(ctx, tk, body, &res)
		if err == nil {
			return res, nil
		}
		last = err
		if isRateLimited(err) {
			res.RateLimited++
		}
		if ctx.Err() != nil {
			// Cancelled, not unreachable: the run is stopping and this request may be half sent.
			return res, fmt.Errorf("sending request: %w", errors.Join(ctx.Err(), err))
		}
		if !retryable(ctx, err) || res.Attempts >= c.retry.MaxAttempts {
			return res, c.giveUp(res.Attempts, err)
		}
		if isRateLimited(err) {
			continue // the limiter now holds every request until X-RateLimit-Reset
		}
		if wait <= 0 {
			wait = c.retry.backoff(res.Attempts, c.jitter)
		}
		if err := c.pause(ctx, wait, err); err != nil {
			return res, err
		}
	}
}

func (c *Client) giveUp(attempts int, err error) error {
	if te := tlsFailure(c.base.Host, err); te != nil {
		return te
	}
	if errors.Is(err, errTransport) {
		err = fmt.Errorf("%w at %s: %w", ErrUnreachable, c.base.Host, err)
	}
	if attempts > 1 {
		err = fmt.Errorf("giving up after %d attempts: %w", attempts, err)
	}
	return err
}

// Preflight checks the key without changing any profile: an empty /users/track body is refused by
// Braze with 400 when the key is good, 401 when it is unknown, 403 when it lacks users.track. It
// paces and retries like Track, so a 503 at start does not fail the run.
func (c *Client) Preflight(ctx context.Context) error {
	_, err := c.Track(ctx, []byte(`{}`))
	var apiErr *APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest:
		return nil
	default:
		return err
	}
}

// attempt sends the body once, under the limiter's ticket tk. It returns the server's Retry-After
// (capped), if any.
func (c *Client) attempt(ctx context.Context, tk ticket, body []byte, res *Result) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.track, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("building request: %w", err)
	}
	// The key travels only here: never in the URL, the body, or an error.
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, transportError(err)
	}
	defer resp.Body.Close()
	c.limiter.observe(tk, resp.StatusCode, readRateHeaders(resp.Header))
	res.Status = resp.StatusCode
	return c.retry.retryAfter(resp.Header), c.readAnswer(resp, res)
}

// answer is the union of Braze's /users/track answer shapes (docs/braze-api.md §3).
type answer struct {
	Message             string            `json:"message"`
	AttributesProcessed int               `json:"attributes_processed"`
	Errors              []json.RawMessage `json:"errors"`
}

func (c *Client) readAnswer(resp *http.Response, res *Result) error {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		// A truncated or reset answer: Braze may or may not have applied the request.
		return fmt.Errorf("%w: reading answer: %v", errTransport, err)
	}
	var a answer
	parseErr := json.Unmarshal(raw, &a)
	objErrs := objectErrors(a.Errors)
	// Braze's texts end up in errors, logs and the dead-letter file: a server that echoes the request
	// (a proxy, a debugging endpoint) must not carry the key there.
	a.Message = c.redact(a.Message)
	for i := range objErrs {
		objErrs[i].Type = c.redact(objErrs[i].Type)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		res.Errors = objErrs
		return &APIError{Status: resp.StatusCode, Message: a.Message, Errors: objErrs, class: classify(resp.StatusCode)}
	}
	if parseErr != nil {
		// A 2xx whose body is cut short is as unknown as a reset: retry (sets are idempotent).
		return fmt.Errorf("%w: answer %d is not JSON: %v", errTransport, resp.StatusCode, parseErr)
	}
	// 202 "queued" is a legacy success shape (§3.3); anything else that is not "success" failed.
	if a.Message != "success" && !(resp.StatusCode == http.StatusAccepted && a.Message == "queued") {
		res.Errors = objErrs
		return &APIError{Status: resp.StatusCode, Message: a.Message, Errors: objErrs, class: ErrNotSuccess}
	}
	res.Message = a.Message
	res.Processed = a.AttributesProcessed
	res.Errors = objErrs
	return nil
}

// redact removes the API key from a text the server sent.
func (c *Client) redact(s string) string {
	key := strings.TrimPrefix(c.auth, "Bearer ")
	if key == "" || !strings.Contains(s, key) {
		return s
	}
	return strings.ReplaceAll(s, key, "[REDACTED]")
}

// objectErrors accepts both documented shapes: objects with type/input_array/index, and the old
// plain strings (which carry no index).
func objectErrors(raw []json.RawMessage) []ObjectError {
	out := make([]ObjectError, 0, len(raw))
	for _, r := range raw {
		var oe ObjectError
		if json.Unmarshal(r, &oe) == nil && oe.InputArray != "" {
			out = append(out, oe)
			continue
		}
		var s string
		if json.Unmarshal(r, &s) == nil {
			out = append(out, ObjectError{Type: s, Index: -1})
		}
	}
	return out
}

// transportError wraps an http.Client error. url.Error carries only our URL, which holds no secret.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return fmt.Errorf("%w: %v", errTransport, err)
	}
	return fmt.Errorf("%w: %w", errTransport, err)
}

// newTransport is http.DefaultTransport keeping as many idle connections to Braze as there are
// workers (the default keeps 2, so 16 workers opened a new connection for most requests), with a
// write buffer that takes a typical request body in one write.
func newTransport(maxConns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(maxConns, 2)
	t.MaxIdleConns = max(t.MaxIdleConns, t.MaxIdleConnsPerHost)
	t.WriteBufferSize = 64 << 10
	return t
}

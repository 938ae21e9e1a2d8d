package brazeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const key = "sk-brazeapi-SECRET"

// script answers requests from a list of handlers, one per request (the last repeats), and records
// the waits the client asked for instead of sleeping them.
type script struct {
	mu       sync.Mutex
	steps    []http.HandlerFunc
	n        int
	waits    []time.Duration
	srv      *httptest.Server
	client   *Client
	bodySeen []string
}

func setup(t *testing.T, policy RetryPolicy, steps ...http.HandlerFunc) *script {
	t.Helper()
	s := &script{steps: steps}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			t.Errorf("Authorization header = %q", r.Header.Get("Authorization"))
		}
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		step := s.steps[min(s.n, len(s.steps)-1)]
		s.n++
		s.bodySeen = append(s.bodySeen, string(b))
		s.mu.Unlock()
		step(w, r)
	}))
	t.Cleanup(s.srv.Close)
	c, err := New(Options{Endpoint: s.srv.URL, APIKey: key, RateLimit: -1, Retry: policy, Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	c.sleep = func(ctx context.Context, d time.Duration) error {
		s.mu.Lock()
		s.waits = append(s.waits, d)
		s.mu.Unlock()
		return ctx.Err()
	}
	c.jitter = func(k int64) int64 { return k } // the top of the jitter range, so waits are exact
	clk := newFakeClock()
	c.limiter.now, c.limiter.sleep = clk.now, func(ctx context.Context, d time.Duration) error {
		s.mu.Lock()
		s.waits = append(s.waits, d)
		s.mu.Unlock()
		return clk.sleep(ctx, d)
	}
	s.client = c
	return s
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

var ok = status(201, `{"message":"success","attributes_processed":1}`)

func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.(*net.TCPConn).SetLinger(0)
		_ = conn.Close()
	}
}

var policy = RetryPolicy{MaxAttempts: 4, WaitMin: 100 * time.Millisecond, WaitMax: 300 * time.Millisecond}

// TestTrackRetryPolicy walks each branch of the policy: what is retried, after which wait, and when
// the client gives up.
func TestTrackRetryPolicy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		steps    []http.HandlerFunc
		attempts int
		waits    []time.Duration
		wantErr  error  // errors.Is target
		errText  string // substring
	}{
		{"success first time", []http.HandlerFunc{ok}, 1, nil, nil, ""},
		{"5xx then success: exponential backoff", []http.HandlerFunc{status(503, `{}`), status(500, `{}`), ok}, 3,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, nil, ""},
		{"5xx until giving up: capped backoff", []http.HandlerFunc{status(502, `{}`)}, 4,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}, nil, "giving up after 4 attempts"},
		{"501 is not retried", []http.HandlerFunc{status(501, `{}`)}, 1, nil, nil, "501"},
		{"400 is not retried", []http.HandlerFunc{status(400, `{"message":"Bad Request"}`)}, 1, nil, nil, "Bad Request"},
		{"401 is fatal", []http.HandlerFunc{status(401, `{}`)}, 1, nil, ErrUnauthorized, ""},
		{"403 is fatal", []http.HandlerFunc{status(403, `{"message":"Access Denied"}`)}, 1, nil, ErrForbidden, ""},
		{"2xx not success is a failure, not retried", []http.HandlerFunc{status(201, `{"message":"queued?"}`)}, 1, nil, ErrNotSuccess, ""},
		{"202 queued is a legacy success", []http.HandlerFunc{status(202, `{"message":"queued"}`)}, 1, nil, nil, ""},
		{"redirect is not followed", []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/users/track", http.StatusTemporaryRedirect)
		}}, 1, nil, nil, "307"},
		{"connection reset: retried, then unreachable", []http.HandlerFunc{hangUp}, 4,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}, ErrUnreachable, ""},
		{"reset then success", []http.HandlerFunc{hangUp, ok}, 2, []time.Duration{100 * time.Millisecond}, nil, ""},
		{"truncated success is retried", []http.HandlerFunc{status(201, `{"message":"succ`), ok}, 2, []time.Duration{100 * time.Millisecond}, nil, ""},
		{"timeout is retried", []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, ok}, 2, []time.Duration{100 * time.Millisecond}, nil, ""},
		{"Retry-After is honoured, capped at WaitMax", []http.HandlerFunc{func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(503)
		}, ok}, 2, []time.Duration{300 * time.Millisecond}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := setup(t, policy, tc.steps...)
			res, err := s.client.Track(t.Context(), []byte(`{"attributes":[]}`))
			assert.Equal(t, tc.attempts, res.Attempts)
			assert.Equal(t, tc.waits, s.waits)
			switch {
			case tc.wantErr != nil:
				assert.ErrorIs(t, err, tc.wantErr)
			case tc.errText != "":
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.errText)
			default:
				assert.NoError(t, err)
			}
			if err != nil {
				assert.NotContains(t, err.Error(), key)
			}
		})
	}
}

// TestTrack429WaitsForReset: a 429 pauses the limiter until X-RateLimit-Reset, then the request is
// resent; no exponential backoff is added.
func TestTrack429WaitsForReset(t *testing.T) {
	var resetAt time.Time
	var s *script
	s = setup(t, policy, func(w http.ResponseWriter, _ *http.Request) {
		resetAt = s.client.limiter.now().Add(2 * time.Second)
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(resetAt.Unix(), 10))
		w.WriteHeader(429)
	}, ok)
	res, err := s.client.Track(t.Context(), []byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Attempts)
	assert.Equal(t, 1, res.RateLimited)
	assert.Equal(t, []time.Duration{2 * time.Second}, s.waits)
}

// TestTrackCancelled: a context cancelled during a backoff ends Track with context.Canceled, not as
// unreachable.
func TestTrackCancelled(t *testing.T) {
	s := setup(t, policy, status(503, `{}`))
	ctx, cancel := context.WithCancel(t.Context())
	s.client.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	_, err := s.client.Track(ctx, []byte(`{}`))
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.Is(err, ErrUnreachable))
}

// TestTrackPartialErrors: both documented shapes of errors[] are read.
func TestTrackPartialErrors(t *testing.T) {
	s := setup(t, policy, status(201, `{"message":"success","errors":[{"type":"bad email","input_array":"attributes","index":1},"legacy text"]}`))
	res, err := s.client.Track(t.Context(), []byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, []ObjectError{{Type: "bad email", InputArray: "attributes", Index: 1}, {Type: "legacy text", Index: -1}}, res.Errors)
}

// TestRedirectKeepsTheKey: a redirect to another host is not followed, so the key never reaches it.
func TestRedirectKeepsTheKey(t *testing.T) {
	var leaked bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = true
	}))
	t.Cleanup(other.Close)
	s := setup(t, policy, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/users/track", http.StatusPermanentRedirect)
	})
	_, err := s.client.Track(t.Context(), []byte(`{}`))
	require.Error(t, err)
	assert.False(t, leaked, "the redirect target was contacted")
	assert.Equal(t, []string{`{}`}, s.bodySeen)
}

// TestBackoffJitter: waits lie in the upper half of the exponential step and never exceed WaitMax.
func TestBackoffJitter(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, WaitMin: 250 * time.Millisecond, WaitMax: 20 * time.Second}
	for n := 1; n <= 40; n++ {
		step := min(p.WaitMin<<min(n-1, 30), p.WaitMax)
		lo := p.backoff(n, func(int64) int64 { return 0 })
		hi := p.backoff(n, func(k int64) int64 { return k })
		assert.Equal(t, step/2, lo, "attempt %d", n)
		assert.Equal(t, step, hi, "attempt %d", n)
		r := p.backoff(n, randJitter)
		assert.True(t, r >= lo && r <= hi, "attempt %d: %v", n, r)
	}
}

// TestPreflight: 400 on the empty body means the key is good; 401/403 are returned; a 503 is retried.
func TestPreflight(t *testing.T) {
	assert.NoError(t, setup(t, policy, status(400, `{}`)).client.Preflight(t.Context()))
	assert.ErrorIs(t, setup(t, policy, status(401, `{}`)).client.Preflight(t.Context()), ErrUnauthorized)
	assert.ErrorIs(t, setup(t, policy, status(403, `{}`)).client.Preflight(t.Context()), ErrForbidden)
	assert.NoError(t, setup(t, policy, status(503, `{}`), status(400, `{}`)).client.Preflight(t.Context()))
}

// TestParseEndpoint: the key only goes to a Braze REST host over https, or to loopback.
func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		custom  bool
		want    string
		wantErr string
	}{
		{"https://rest.iad-01.braze.com", false, "https://rest.iad-01.braze.com", ""},
		{"https://REST.IAD-01.Braze.com/", false, "https://rest.iad-01.braze.com", ""},
		{"rest.fra-02.braze.eu", false, "https://rest.fra-02.braze.eu", ""},
		{"  https://rest.us-10.braze.com//  ", false, "https://rest.us-10.braze.com", ""},
		{"http://rest.iad-01.braze.com", false, "", "must use https"},
		{"https://sdk.iad-01.braze.com", false, "", "not a Braze REST host"},
		{"https://rest.iad-01.braze.com.evil.example", false, "", "not a Braze REST host"},
		{"https://proxy.example.com", false, "", "allow_custom_endpoint"},
		{"https://proxy.example.com", true, "https://proxy.example.com", ""},
		{"http://proxy.example.com", true, "", "must use https"},
		{"http://127.0.0.1:8080", false, "http://127.0.0.1:8080", ""},
		{"http://localhost:9", false, "http://localhost:9", ""},
		{"http://[::1]:9", false, "http://[::1]:9", ""},
		{"https://user:pw@rest.iad-01.braze.com", false, "", "credentials"},
		{"https://rest.iad-01.braze.com?api_key=x", false, "", "query"},
		{"", false, "", "empty"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			u, err := ParseEndpoint(tc.raw, tc.custom)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, u.String())
		})
	}
}

// TestKeyOnlyInHeader: the request carries the key in Authorization and nowhere else.
func TestKeyOnlyInHeader(t *testing.T) {
	var seen *http.Request
	var body string
	s := setup(t, policy, func(w http.ResponseWriter, r *http.Request) {
		seen = r.Clone(context.Background())
		ok(w, r)
	})
	_, err := s.client.Track(t.Context(), []byte(`{"attributes":[]}`))
	require.NoError(t, err)
	body = s.bodySeen[0]
	assert.Equal(t, "Bearer "+key, seen.Header.Get("Authorization"))
	assert.NotContains(t, seen.URL.String(), key)
	assert.NotContains(t, body, key)
	for name, vals := range seen.Header {
		if name != "Authorization" {
			assert.NotContains(t, strings.Join(vals, ","), key, name)
		}
	}
	assert.NotContains(t, fmt.Sprint(s.client.Endpoint()), key)
}

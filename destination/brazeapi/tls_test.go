package brazeapi

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTLSFailuresAreNotRetried: a certificate problem fails the first attempt with ErrTLS (also an
// ErrUnreachable, for the exit code) and a message naming the problem; nothing is retried.
func TestTLSFailuresAreNotRetried(t *testing.T) {
	var served atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served.Add(1)
		ok(w, nil)
	})
	tlsSrv := httptest.NewTLSServer(handler)
	t.Cleanup(tlsSrv.Close)
	plainSrv := httptest.NewServer(handler)
	t.Cleanup(plainSrv.Close)
	trusting := tlsSrv.Client() // trusts the test certificate, issued for 127.0.0.1 and example.com

	for _, tc := range []struct {
		name     string
		endpoint string
		client   *http.Client
		problem  string
	}{
		{"self-signed certificate", tlsSrv.URL, nil, "unknown authority"},
		{"certificate for another host", strings.Replace(tlsSrv.URL, "127.0.0.1", "localhost", 1), trusting, "not valid for localhost"},
		{"plain http behind https", strings.Replace(plainSrv.URL, "http://", "https://", 1), nil, "does not speak TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := served.Load()
			c, err := New(Options{Endpoint: tc.endpoint, APIKey: key, RateLimit: -1, HTTPClient: tc.client,
				Retry: RetryPolicy{MaxAttempts: 8, WaitMin: time.Millisecond, WaitMax: time.Millisecond}})
			require.NoError(t, err)
			res, err := c.Track(t.Context(), []byte(`{"attributes":[]}`))
			require.Error(t, err)
			t.Log(err)
			assert.Equal(t, 1, res.Attempts, "a TLS failure is not retried")
			assert.ErrorIs(t, err, ErrTLS)
			assert.ErrorIs(t, err, ErrUnreachable, "same exit code as an unreachable endpoint")
			assert.Contains(t, err.Error(), tc.problem)
			assert.NotContains(t, err.Error(), key)
			assert.Equal(t, before, served.Load(), "no request got through")
		})
	}
}

// TestTLSTrustedEndpointWorks: the classification does not get in the way of a good handshake.
func TestTLSTrustedEndpointWorks(t *testing.T) {
	srv := httptest.NewTLSServer(ok)
	t.Cleanup(srv.Close)
	c, err := New(Options{Endpoint: srv.URL, APIKey: key, RateLimit: -1, HTTPClient: srv.Client()})
	require.NoError(t, err)
	_, err = c.Track(t.Context(), []byte(`{"attributes":[]}`))
	require.NoError(t, err)
}

func TestTLSProblemIgnoresOtherErrors(t *testing.T) {
	assert.Empty(t, tlsProblem(errTransport))
	assert.Empty(t, tlsProblem(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}))
	assert.NotEmpty(t, tlsProblem(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}))
}

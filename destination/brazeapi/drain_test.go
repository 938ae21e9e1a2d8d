package brazeapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDrainStartsNoNewAttempt: once the caller drains, a request waiting for the rate limiter or for
// a retry is not sent (ErrDrained), while the attempt on the wire runs to its answer.
func TestDrainStartsNoNewAttempt(t *testing.T) {
	var served atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		switch r.URL.Query().Get("case") {
		case "slow":
			<-release
			ok(w, r)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)

	t.Run("waiting for the rate limiter", func(t *testing.T) {
		c, err := New(Options{Endpoint: srv.URL, APIKey: key, RateLimit: 1, RateWindow: time.Hour})
		require.NoError(t, err)
		require.NoError(t, c.Limiter().Wait(t.Context())) // the one request of the window
		drain, stop := context.WithCancel(context.Background())
		ctx := WithDrain(t.Context(), drain)
		before := served.Load()
		done := make(chan error, 1)
		go func() { _, err := c.Track(ctx, []byte(`{}`)); done <- err }()
		stop()
		assert.ErrorIs(t, <-done, ErrDrained)
		assert.Equal(t, before, served.Load(), "nothing sent after the drain")
	})

	t.Run("waiting to retry", func(t *testing.T) {
		c, err := New(Options{Endpoint: srv.URL, APIKey: key, RateLimit: -1,
			Retry: RetryPolicy{MaxAttempts: 8, WaitMin: time.Hour, WaitMax: time.Hour}})
		require.NoError(t, err)
		drain, stop := context.WithCancel(context.Background())
		ctx := WithDrain(t.Context(), drain)
		c.sleep = func(ctx context.Context, d time.Duration) error { stop(); <-ctx.Done(); return ctx.Err() }
		res, err := c.Track(ctx, []byte(`{}`))
		assert.ErrorIs(t, err, ErrDrained)
		assert.Contains(t, err.Error(), "503", "the last attempt's answer is kept")
		assert.Equal(t, 1, res.Attempts)
	})

	t.Run("on the wire", func(t *testing.T) {
		c, err := New(Options{Endpoint: srv.URL, APIKey: key, RateLimit: -1})
		require.NoError(t, err)
		c.track = srv.URL + "/users/track?case=slow"
		drain, stop := context.WithCancel(context.Background())
		ctx := WithDrain(t.Context(), drain)
		done := make(chan error, 1)
		before := served.Load()
		go func() { _, err := c.Track(ctx, []byte(`{}`)); done <- err }()
		for served.Load() == before {
			time.Sleep(time.Millisecond)
		}
		stop()
		close(release)
		assert.NoError(t, <-done, "the attempt in flight finished")
	})
}

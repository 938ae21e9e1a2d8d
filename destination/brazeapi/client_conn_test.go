package brazeapi

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConnectionsAreReused: concurrent requests reuse a bounded set of connections instead of
// opening one per request (http.DefaultTransport keeps only two idle per host).
func TestConnectionsAreReused(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // keep the workers' requests overlapping
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"message":"success","attributes_processed":1}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	const workers, waves = 8, 10
	c, err := New(Options{Endpoint: srv.URL, APIKey: "k", RateLimit: -1, MaxConns: workers})
	if err != nil {
		t.Fatal(err)
	}
	// Waves of concurrent requests: between waves every connection goes back to the idle pool,
	// which must keep all of them for the next wave.
	for range waves {
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Track(context.Background(), []byte(`{"attributes":[{"external_id":"u"}]}`)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	if n := conns.Load(); n > workers {
		t.Errorf("%d connections for %d requests from %d workers; want at most %d", n, workers*waves, workers, workers)
	}
}

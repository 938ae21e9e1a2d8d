package brazeapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brazesync/brazesync/plugin/emulator/brazeemu"
)

const eventBody = `{"events":[{"external_id":"u1","name":"n","time":"2024-01-01T00:00:00Z"}]}`

// TestTrackEventsPolicy walks every outcome of an attempt under both policies: what counts as not
// applied (retried as for attributes), what is ambiguous (not resent under dead_letter, resent and
// counted under retry), and which errors the caller sees.
func TestTrackEventsPolicy(t *testing.T) {
	timeout := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}
	for _, tc := range []struct {
		name      string
		policy    AmbiguousPolicy
		steps     []http.HandlerFunc
		attempts  int
		ambiguous int
		wantErr   []error // errors.Is targets
		notErr    []error
	}{
		{"success", AmbiguousDeadLetter, []http.HandlerFunc{ok}, 1, 0, nil, nil},
		{"429 was not applied: retried", AmbiguousDeadLetter, []http.HandlerFunc{status(429, `{}`), ok}, 2, 0, nil, nil},
		{"400 was not applied: not retried, not ambiguous", AmbiguousDeadLetter, []http.HandlerFunc{status(400, `{}`)}, 1, 0,
			nil, []error{ErrAmbiguous, nil}},
		{"5xx under dead_letter: not resent", AmbiguousDeadLetter, []http.HandlerFunc{status(503, `{}`), ok}, 1, 1,
			[]error{ErrAmbiguous}, []error{ErrUnreachable}},
		{"5xx under retry: resent and counted", AmbiguousRetry, []http.HandlerFunc{status(500, `{}`), ok}, 2, 1, nil, nil},
		{"reset after the body under dead_letter", AmbiguousDeadLetter, []http.HandlerFunc{hangUp, ok}, 1, 1,
			[]error{ErrAmbiguous}, []error{ErrUnreachable}},
		{"reset after the body under retry, every time", AmbiguousRetry, []http.HandlerFunc{hangUp}, 4, 4,
			[]error{ErrAmbiguous, ErrUnreachable}, nil},
		{"cut answer (even a 201) under dead_letter", AmbiguousDeadLetter, []http.HandlerFunc{status(201, `{"message":"succ`), ok}, 1, 1,
			[]error{ErrAmbiguous}, nil},
		{"timeout after the body under dead_letter", AmbiguousDeadLetter, []http.HandlerFunc{timeout, ok}, 1, 1,
			[]error{ErrAmbiguous}, nil},
		{"429, then 5xx under retry, then 400: ambiguous all the same", AmbiguousRetry,
			[]http.HandlerFunc{status(429, `{}`), status(502, `{}`), status(400, `{}`)}, 3, 1, []error{ErrAmbiguous}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := setup(t, policy, tc.steps...)
			res, err := s.client.TrackEvents(t.Context(), []byte(eventBody), tc.policy)
			assert.Equal(t, tc.attempts, res.Attempts, "attempts")
			assert.Equal(t, tc.ambiguous, res.Ambiguous, "ambiguous attempts")
			if tc.wantErr == nil && tc.notErr == nil {
				assert.NoError(t, err)
			}
			for _, target := range tc.wantErr {
				assert.ErrorIs(t, err, target)
			}
			for _, target := range tc.notErr {
				if target == nil { // listed to say: the request failed
					assert.Error(t, err)
					continue
				}
				assert.NotErrorIs(t, err, target)
			}
		})
	}
}

// TestTrackEventsRefusedIsNotAmbiguous: a refused connection never carried the body, so it is
// retried under dead_letter, and the final error says unreachable, not "may have been recorded".
func TestTrackEventsRefusedIsNotAmbiguous(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now: connections are refused
	c, err := New(Options{Endpoint: "http://" + addr, APIKey: key, RateLimit: -1, Retry: policy, Timeout: time.Second})
	require.NoError(t, err)
	c.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	res, err := c.TrackEvents(t.Context(), []byte(eventBody), AmbiguousDeadLetter)
	assert.Equal(t, policy.MaxAttempts, res.Attempts)
	assert.Zero(t, res.Ambiguous)
	assert.ErrorIs(t, err, ErrUnreachable)
	assert.NotErrorIs(t, err, ErrAmbiguous)
}

// TestTrackEventsCancelledInFlight: a run that ends while the body is with Braze cannot know
// whether it was recorded.
func TestTrackEventsCancelledInFlight(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s := setup(t, policy, func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	})
	res, err := s.client.TrackEvents(ctx, []byte(eventBody), AmbiguousDeadLetter)
	assert.Equal(t, 1, res.Attempts)
	assert.Equal(t, 1, res.Ambiguous)
	assert.ErrorIs(t, err, ErrAmbiguous)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestTrackEventsAgainstEmulator runs both policies against the Braze emulator resetting the
// connection after applying a request: dead_letter records the event once and says it may have,
// retry records it twice and says nothing failed.
func TestTrackEventsAgainstEmulator(t *testing.T) {
	for _, tc := range []struct {
		policy AmbiguousPolicy
		events int
		failed bool
	}{{AmbiguousDeadLetter, 1, true}, {AmbiguousRetry, 2, false}} {
		emu := brazeemu.New(brazeemu.Options{APIKeys: []string{key}})
		require.NoError(t, emu.Listen("127.0.0.1:0"))
		t.Cleanup(func() { _ = emu.Close() })
		emu.SetFaults(brazeemu.Fault{Kind: brazeemu.FaultResetAfter, Count: 1})
		c, err := New(Options{Endpoint: emu.URL(), APIKey: key, RateLimit: -1, Retry: policy})
		require.NoError(t, err)
		c.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
		res, err := c.TrackEvents(t.Context(), []byte(eventBody), tc.policy)
		assert.Equal(t, 1, res.Ambiguous)
		assert.Equal(t, tc.failed, errors.Is(err, ErrAmbiguous), "error %v", err)
		p, ok := emu.Profile("u1")
		require.True(t, ok)
		assert.Len(t, p.Events, tc.events)
	}
}

// TestTrackIsUnchangedForAttributes: the hook only acts on TrackEvents calls.
func TestTrackIsUnchangedForAttributes(t *testing.T) {
	s := setup(t, policy, status(503, `{}`), ok)
	res, err := s.client.Track(t.Context(), []byte(`{"attributes":[]}`))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Attempts)
}

package actionhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// acquire waits for an execution slot, QueueWait at most. MaxQueued executions may wait at once;
// one more is answered busy at once, so a flood of execute calls holds a bounded number of
// connections and goroutines, whatever the queue wait.
func (s *Server) acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	default:
	}
	maxQueued := s.cfg.Limits.MaxQueued
	if s.queued.Add(1) > int64(maxQueued) {
		s.queued.Add(-1)
		full := &boundError{what: fmt.Sprintf("The action hub is busy: all %d execution slots are taken and %d executions wait for one",
			cap(s.sem), maxQueued), flag: "max-queued", value: maxQueued}
		return fmt.Errorf("%w; nothing was downloaded from Looker, so the Look can be sent again", full)
	}
	defer s.queued.Add(-1)
	t := time.NewTimer(s.cfg.Limits.QueueWait)
	defer t.Stop()
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-t.C:
		busy := &boundError{what: fmt.Sprintf("The action hub is busy: all %d execution slots stayed taken", cap(s.sem)),
			flag: "queue-wait", value: s.cfg.Limits.QueueWait}
		return fmt.Errorf("%w; nothing was downloaded from Looker, so the Look can be sent again", busy)
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s *Server) release() { <-s.sem }

// readPayload reads the execute body, MaxBodyBytes at most, with no pause longer than
// DownloadIdleTimeout. It runs inside a slot, so the bodies held at once are bounded by
// MaxConcurrent, and a stalled body frees its slot.
func (s *Server) readPayload(w http.ResponseWriter, r *http.Request) (executePayload, *failure) {
	var p executePayload
	rc := http.NewResponseController(w)
	// Cleared after: the server's own read that notices Looker hanging up must not time out.
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	body := &idleBody{r: http.MaxBytesReader(w, r.Body, s.cfg.Limits.MaxBodyBytes), rc: rc, idle: s.cfg.Limits.DownloadIdleTimeout}
	err := json.NewDecoder(body).Decode(&p)
	if err == nil {
		// Reading to the end lets the server notice when Looker hangs up.
		_, err = io.Copy(io.Discard, body)
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return p, fail("The execute request body is larger than the limit (--max-body-bytes %d).", tooLarge.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return p, fail("The execute request body stalled: no byte for %s (--download-idle-timeout).", s.cfg.Limits.DownloadIdleTimeout)
	case err != nil:
		return p, fail("The execute request is not valid JSON: %v.", err)
	}
	return p, nil
}

// idleBody moves the connection's read deadline on before every read.
type idleBody struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
}

func (b *idleBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	return b.r.Read(p)
}

// input is the result stream of an execution: the download or the inline attachment.
type input interface {
	io.ReadCloser
	// Failure is the bound or transport error that ended the stream, if any.
	Failure() error
}

// open returns the result stream: the download_url when given (the "url" delivery), else the
// inline attachment.
func (s *Server) open(ctx context.Context, req *request) (input, error) {
	if req.downloadURL != "" {
		return s.fetch(ctx, req.downloadURL)
	}
	r, err := req.attachment.reader()
	if err != nil {
		return nil, err
	}
	return inline{r}, nil
}

// inline is an attachment, already within MaxBodyBytes.
type inline struct{ io.Reader }

func (inline) Close() error   { return nil }
func (inline) Failure() error { return nil }

package actionhub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// download is one download_url fetch, read within the hub's bounds: size, time without a byte,
// total time, and Looker still waiting for the answer (the execution's context).
type download struct {
	body   io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   context.CancelFunc // releases the total timeout
	idle   *time.Timer
	limits Limits
	n      int64
	failed error // the bound that ended the download, if one did
}

// fetch starts the download: it returns once Looker answered 200. The URL is a one-time credential:
// it never appears in an error.
func (s *Server) fetch(ctx context.Context, url string) (*download, error) {
	lim := s.cfg.Limits
	ctx, cancel := context.WithCancelCause(ctx)
	ctx, stop := context.WithTimeoutCause(ctx, lim.DownloadTimeout,
		&boundError{what: "the download took too long", flag: "download-timeout", value: lim.DownloadTimeout})
	d := &download{ctx: ctx, cancel: cancel, stop: stop, limits: lim}
	d.idle = time.AfterFunc(lim.DownloadIdleTimeout, d.idleFired)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		d.Close()
		return nil, errors.New("building the download request: the download_url is not a URL")
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		err = d.explain(err)
		d.Close()
		return nil, fmt.Errorf("There was an error with Action Hub calling back to Looker: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		d.Close()
		return nil, fmt.Errorf("There was an error with Action Hub calling back to Looker, status code: %d", resp.StatusCode)
	}
	d.body = resp.Body
	if resp.ContentLength > lim.MaxDownloadBytes {
		d.Close()
		return nil, d.tooLarge()
	}
	return d, nil
}

func (d *download) idleFired() {
	d.cancel(&boundError{what: "the download sent no bytes for too long", flag: "download-idle-timeout", value: d.limits.DownloadIdleTimeout})
}

func (d *download) tooLarge() error {
	return &boundError{what: "the download is larger than the limit", flag: "max-download-bytes", value: d.limits.MaxDownloadBytes}
}

// Read reads the body, restarting the idle timer on every byte and counting them.
func (d *download) Read(p []byte) (int, error) {
	if d.failed != nil {
		return 0, d.failed
	}
	n, err := d.body.Read(p)
	if n > 0 {
		d.idle.Reset(d.limits.DownloadIdleTimeout)
		d.n += int64(n)
		if d.n > d.limits.MaxDownloadBytes {
			d.failed = d.tooLarge()
			return 0, d.failed
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		d.failed = d.explain(err)
		err = d.failed
	}
	return n, err
}

// explain names why a download failed: the bound or hang-up that cancelled it, else the transport
// error without the URL.
func (d *download) explain(err error) error {
	if d.ctx.Err() != nil {
		if cause := context.Cause(d.ctx); cause != nil {
			return cause
		}
	}
	return redactURLError(err)
}

// Failure is the bound or transport error that ended the download, if any: it says more than the
// decoder's "reading json_detail …" around it.
func (d *download) Failure() error { return d.failed }

// Close ends the download (cancelling it if it is still going).
func (d *download) Close() error {
	d.idle.Stop()
	d.stop()
	d.cancel(nil)
	if d.body != nil {
		return d.body.Close()
	}
	return nil
}

// redactURLError drops the URL (a one-time credential) from a transport error.
func redactURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

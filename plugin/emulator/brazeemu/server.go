package brazeemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// API paths served (docs/braze-api.md §1, §5) and the control prefix.
const (
	pathTrack     = "/users/track"
	pathExportIDs = "/users/export/ids"
	controlPrefix = "/_emulator/"
)

// Bodies of fatal responses. Braze documents only the status lines for 401, 403, 404
// and 429 (§3.3, bodies unconfirmed), so the emulator answers {"message": ...} with the
// status text Braze's errors page uses.
const (
	msgUnauthorized  = "Invalid API key"
	msgAccessDenied  = "Access Denied"
	msgNotFound      = "Not Found"
	msgRateLimited   = "Rate Limited"
	msgBadJSON       = "Bad Request: request body is not valid JSON"
	msgMaxInput      = "Max Input Length Exceeded"
	msgTooLarge      = "Request Entity Too Large"
	msgNoValidData   = "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."
	msgMethodAllowed = "Method Not Allowed"
)

type endpoint struct {
	path        string
	permission  string
	rateLimit   int
	rateWindow  time.Duration
	handle      func(e *Emulator, body []byte, f *Fault) (int, any)
	countsTrack bool
}

func (e *Emulator) endpoint(path string) (endpoint, bool) {
	switch path {
	case pathTrack:
		return endpoint{path: pathTrack, permission: PermUsersTrack, rateLimit: e.opts.RateLimit,
			rateWindow: e.opts.RateWindow, handle: (*Emulator).handleTrack, countsTrack: true}, true
	case pathExportIDs:
		return endpoint{path: pathExportIDs, permission: PermUsersExportIDs, rateLimit: e.opts.ExportRateLimit,
			rateWindow: e.opts.ExportRateWindow, handle: (*Emulator).handleExport}, true
	}
	return endpoint{}, false
}

// ServeHTTP serves the Braze API paths and the /_emulator/ control surface.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		e.serveControl(w, r)
		return
	}
	e.stats.update(func(s *Stats) { s.Requests++ })
	ep, ok := e.endpoint(r.URL.Path)
	if !ok {
		e.reply(w, http.StatusNotFound, message(msgNotFound))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		e.reply(w, http.StatusMethodNotAllowed, message(msgMethodAllowed))
		return
	}
	perms, ok := e.perms[bearerToken(r)]
	if !ok {
		e.reply(w, http.StatusUnauthorized, message(msgUnauthorized))
		return
	}
	if !perms[ep.permission] {
		e.reply(w, http.StatusForbidden, message(msgAccessDenied))
		return
	}
	now := e.opts.Now()
	st, limited := e.limits.take(ep.path+"\x00"+bearerToken(r), ep.rateLimit, ep.rateWindow, now)
	if limited {
		st.setHeaders(w.Header())
		if st.limited {
			e.reply(w, http.StatusTooManyRequests, message(msgRateLimited))
			return
		}
	}
	delay, fault := e.faults.pick(ep.path)
	if delay > 0 && !sleepCtx(r.Context(), delay) {
		e.stats.update(func(s *Stats) { s.FaultsInjected++; s.Status[0]++ })
		return
	}
	body, status := e.readBody(w, r)
	if status != 0 {
		e.reply(w, status, message(map[int]string{
			http.StatusRequestEntityTooLarge: msgTooLarge, http.StatusBadRequest: msgBadJSON}[status]))
		return
	}
	if fault != nil && e.serveEarlyFault(w, fault, st, now, ep) {
		return
	}
	code, resp := ep.handle(e, body, fault)
	if fault != nil && e.serveAppliedFault(w, r, fault, code, resp) {
		return
	}
	if fault != nil && (fault.Kind == FaultResetAfter || fault.Kind == FaultTruncate) {
		e.serveLateFault(w, fault, code, resp)
		return
	}
	e.reply(w, code, resp)
}

// serveEarlyFault answers faults that happen before processing; it reports whether the
// request was answered.
func (e *Emulator) serveEarlyFault(w http.ResponseWriter, f *Fault, st rateState, now time.Time, ep endpoint) bool {
	switch f.Kind {
	case FaultStatus:
		e.stats.update(func(s *Stats) { s.FaultsInjected++ })
		code := f.Status
		if code == 0 {
			code = http.StatusInternalServerError
		}
		msg := f.Message
		if msg == "" {
			msg = http.StatusText(code)
		}
		e.reply(w, code, message(msg)) // reply counts a 429 as RateLimited
		return true
	case FaultRateLimit:
		if st.limit == 0 {
			st = rateState{limit: max(ep.rateLimit, 0), reset: now.Add(ep.rateWindow)}
		}
		st.remaining = 0
		st.setHeaders(w.Header())
		e.stats.update(func(s *Stats) { s.FaultsInjected++ })
		e.reply(w, http.StatusTooManyRequests, message(msgRateLimited))
		return true
	case FaultResetBefore:
		e.stats.update(func(s *Stats) { s.FaultsInjected++; s.Status[0]++ })
		abortConnection(w)
		return true
	}
	return false
}

// serveLateFault breaks the response of a request that has been applied.
func (e *Emulator) serveLateFault(w http.ResponseWriter, f *Fault, code int, resp any) {
	e.stats.update(func(s *Stats) { s.FaultsInjected++; s.Status[0]++ })
	if f.Kind == FaultResetAfter {
		abortConnection(w)
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		abortConnection(w)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		code, http.StatusText(code), len(b))
	_, _ = buf.Write(b[:len(b)/2])
	_ = buf.Flush()
}

// abortConnection closes the client's connection with a TCP reset and no response.
// Without a hijackable connection (e.g. httptest.ResponseRecorder) it panics with
// http.ErrAbortHandler, which net/http turns into a silent connection close.
func abortConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST instead of FIN: "connection reset by peer"
	}
	_ = conn.Close()
}

func (e *Emulator) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int) {
	// Sized from Content-Length when it is plausible: io.ReadAll's doubling was 12% of the
	// bytes the emulator allocated per request.
	var buf bytes.Buffer
	if cl := r.ContentLength; cl > 0 && cl <= e.opts.MaxBodyBytes {
		buf.Grow(int(cl) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, e.opts.MaxBodyBytes))
	body := buf.Bytes()
	n := int64(len(body))
	e.stats.update(func(s *Stats) { s.BytesReceived += n })
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge
	case err != nil:
		return nil, http.StatusBadRequest
	}
	return body, 0
}

// reply writes a JSON body and counts the status.
func (e *Emulator) reply(w http.ResponseWriter, code int, body any) {
	e.stats.update(func(s *Stats) {
		s.Status[code]++
		if code == http.StatusTooManyRequests {
			s.RateLimited++
		}
	})
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"message":"emulator: encoding response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

type messageBody struct {
	Message string `json:"message"`
}

func message(m string) messageBody { return messageBody{Message: m} }

// bearerToken returns the key of "Authorization: Bearer KEY" ("" if absent). The
// scheme is matched case-insensitively, as HTTP auth schemes are.
func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return ""
	}
	return strings.TrimSpace(h[7:])
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
